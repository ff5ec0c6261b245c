"""Markdown / LaTeX leaderboards from results files: one page, a section per comparable suite group.

- :mod:`.common`: slugs, bold-best cells, run marks ([subset], [partial], [transductive]), "Runs:" lines;
- :mod:`.classification`: Table 3 / Table 4 layouts with the published rows beside real-data results;
- :mod:`.anomaly`: the official tables' layouts (DCASE, MIMII, DINOS anomaly; MIMII protocol (b)).

Published numbers are read by one reader (``impact_bench.reference.read_rows``); the aggregation rules
(machine, set, dev + eval scores) live with the metrics (``impact_bench.anomaly.metrics``).
"""
from __future__ import annotations

from impact_bench.leaderboards.classification import build

__all__ = ["build"]

"""``python -m impact_bench.cli`` (what ``torchrun -m impact_bench.cli train …`` runs)."""
import sys

from impact_bench.cli import main

sys.exit(main())

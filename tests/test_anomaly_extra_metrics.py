"""ASDKit's domain AUCs and the pooled (machine-agnostic) evaluation, against direct computations."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import roc_auc_score

from impact_bench.anomaly import metrics as m
from impact_bench.anomaly.backends import BackendConfig
from impact_bench.anomaly.dataset import AsdClip
from impact_bench.anomaly.evaluator import TruthUnit
from impact_bench.anomaly.extra_metrics import extra_block, pooled_block, rule_score
from impact_bench.anomaly.scoring import score_pooled, score_set
from impact_bench.anomaly.submission import Unit
from impact_bench.leaderboards.anomaly_extra import extra_table
from impact_bench.results import validate_results
from impact_bench.suites.catalog import get_suite


def _section(seed: int, n: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    y = np.tile([0, 0, 1, 1], n // 4)
    d = np.repeat([0, 1], n // 2)
    s = r.normal(size=n) + 0.8 * y + 0.3 * d  # anomalies and target clips score higher
    return y, d, s


def test_domain_metrics_are_asdkits_masks_over_sklearn():
    y, d, s = _section(0)
    got = m.domain_metrics(y, d, s)
    src, tgt = d == 0, d == 1
    want = {"s_auc": roc_auc_score(y[src], s[src]), "s_pauc": roc_auc_score(y[src], s[src], max_fpr=0.1),
            "t_auc": roc_auc_score(y[tgt], s[tgt]), "t_pauc": roc_auc_score(y[tgt], s[tgt], max_fpr=0.1),
            "mix_auc": roc_auc_score(y, s), "mix_pauc": roc_auc_score(y, s, max_fpr=0.1),
            "smix_auc": roc_auc_score(y[src | (y == 1)], s[src | (y == 1)]),
            "tmix_auc": roc_auc_score(y[tgt | (y == 1)], s[tgt | (y == 1)])}
    assert got == pytest.approx(want, abs=1e-12)
    official = m.section_2022(y, d, s)  # smix/tmix are the official AUC-source/-target
    assert got["smix_auc"] == pytest.approx(official["auc_source"]) and got["tmix_auc"] == pytest.approx(official["auc_target"])
    assert got["mix_pauc"] == pytest.approx(official["pauc"])


def test_domain_metrics_list_only_what_the_domains_allow():
    y, _, s = _section(1)
    assert set(m.domain_metrics(y, None, s)) == {"mix_auc", "mix_pauc"}  # 2020 / MIMII: no domains
    only_source = m.domain_metrics(y, np.zeros(len(y), dtype=int), s)
    assert set(only_source) == {"s_auc", "s_pauc", "mix_auc", "mix_pauc"}
    d = np.repeat([0, 1], len(y) // 2)
    y2 = y.copy()
    y2[d == 1] = 0  # no target anomalies: t_* cannot be computed and is left out
    assert "t_auc" not in m.domain_metrics(y2, d, s) and "tmix_auc" in m.domain_metrics(y2, d, s)


def _record(y, d, s, prefix="f"):
    return {"names": [f"{prefix}{i}.wav" for i in range(len(y))], "labels": [int(v) for v in y],
            "domains": [None if v < 0 else int(v) for v in d], "scores": [float(v) for v in s]}


def test_extra_block_totals_follow_asdkit_hmean_and_join_2021_domains():
    secs = {("fan", "section_00"): _section(2), ("fan", "section_01"): _section(3), ("valve", "section_00"): _section(4)}
    clips = {}
    for (mach, sec), (y, d, s) in secs.items():
        clips.setdefault(mach, {})[sec] = _record(y, d, s)
    block = extra_block(clips, "dcase", 2022)
    assert block["official"] is False and block["aggregate"] == "hmean"
    fan = [m.domain_metrics(*secs[("fan", k)]) for k in ("section_00", "section_01")]
    fan_t = scipy.stats.hmean([r["t_auc"] for r in fan])
    assert block["machines"]["fan"]["total"]["t_auc"] == pytest.approx(fan_t, abs=1e-12)
    valve_t = m.domain_metrics(*secs[("valve", "section_00")])["t_auc"]
    assert block["total"]["t_auc"] == pytest.approx(scipy.stats.hmean([fan_t, valve_t]), abs=1e-12)
    # 2021: one file per (section, domain) — joined again per section
    y, d, s = secs[("fan", "section_00")]
    split = {"fan": {f"section_00_{name}": _record(y[d == k], d[d == k], s[d == k], name)
                     for k, name in ((0, "source"), (1, "target"))}}
    joined = extra_block(split, "dcase", 2021)["machines"]["fan"]["sections"]
    assert list(joined) == ["section_00"]
    assert joined["section_00"]["mix_auc"] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert extra_block(clips, "mimii", None)["aggregate"] == "mean"


def test_rule_score_is_the_years_official_aggregation():
    secs = {"fan": _section(5), "valve": _section(6)}
    clips = {mach: {"section_00": _record(*v)} for mach, v in secs.items()}
    want = m.official_2022([m.section_2022(*secs["fan"]), m.section_2022(*secs["valve"])])
    assert rule_score(clips, "dcase", 2023) == pytest.approx(want, abs=1e-12)
    ids = {"fan": {"id_00": _record(*secs["fan"]), "id_02": _record(*secs["valve"])}}
    y0, _, s0 = secs["fan"]
    y1, _, s1 = secs["valve"]
    mean_auc = (roc_auc_score(y0, s0) + roc_auc_score(y1, s1)) / 2
    mean_pauc = (roc_auc_score(y0, s0, max_fpr=0.1) + roc_auc_score(y1, s1, max_fpr=0.1)) / 2
    assert rule_score(ids, "dcase", 2020) == pytest.approx((mean_auc + mean_pauc) / 2, abs=1e-12)


def _clip(machine, split, domain, label, k):
    name = (f"section_00_{domain}_{split}_{label}_{k:04d}_a.wav")
    return AsdClip(Path("/data") / machine / split / name, f"dev_data/{machine}/{split}/{name}", "dev", machine,
                   "section_00", split, domain, label, "a")


def _two_machines(seed: int = 0):
    clips = []
    for mach in ("fan", "valve"):
        clips += [_clip(mach, "train", "source", "normal", k) for k in range(6)]
        clips += [_clip(mach, "train", "target", "normal", k) for k in range(3)]
        for dom in ("source", "target"):
            clips += [_clip(mach, "test", dom, lab, k) for lab in ("normal", "anomaly") for k in range(3)]
    r = np.random.default_rng(seed)
    centre = {"fan": r.normal(size=6), "valve": r.normal(size=6)}
    x = np.stack([centre[c.machine] + r.normal(scale=0.7 if c.label == "anomaly" else 0.3, size=6) for c in clips])
    return clips, x.astype(np.float32)


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.clip(1 - a @ b.T, 0, 2)


def test_pooled_detector_scores_every_clip_against_all_machine_types_banks():
    clips, x = _two_machines()
    spec = get_suite("dcase2025")
    got = score_pooled(spec, BackendConfig(), clips, x, "dev")
    src = [i for i, c in enumerate(clips) if c.split == "train" and c.domain == "source"]
    tgt = [i for i, c in enumerate(clips) if c.split == "train" and c.domain == "target"]
    for unit, (names, scores, _) in got.items():
        idx = [next(i for i, c in enumerate(clips) if c.name == n and c.machine == unit.machine) for n in names]
        want = np.minimum(_cos(x[idx], x[src]).min(1), _cos(x[idx], x[tgt]).min(1))
        assert scores == pytest.approx(want, abs=1e-5)
    # per machine, the official detector only sees its own machine's bank
    official = score_set(spec, BackendConfig(), clips, x, "dev")
    own = [i for i in src if clips[i].machine == "fan"]
    names, scores, _ = official[Unit("fan", "section_00")]
    idx = [next(i for i, c in enumerate(clips) if c.name == n and c.machine == "fan") for n in names]
    own_t = [i for i in tgt if clips[i].machine == "fan"]
    assert scores == pytest.approx(np.minimum(_cos(x[idx], x[own]).min(1), _cos(x[idx], x[own_t]).min(1)), abs=1e-5)


def test_pooled_block_is_one_auc_over_the_whole_set():
    clips, x = _two_machines(1)
    spec = get_suite("dcase2025")
    truths = []
    for mach in ("fan", "valve"):
        t = TruthUnit(Unit(mach, "section_00"), {})
        for c in clips:
            if c.machine == mach and c.split == "test":
                t.labels[c.name] = int(c.label == "anomaly")
                t.domains[c.name] = int(c.domain == "target")
        truths.append(t)
    pooled = score_pooled(spec, BackendConfig(), clips, x, "dev")
    official = score_set(spec, BackendConfig(), clips, x, "dev")
    from impact_bench.anomaly.perclip import record_clips
    block = pooled_block(truths, pooled, record_clips(truths, official), "dcase", 2025)
    y = np.concatenate([[t.labels[n] for n in pooled[t.unit][0]] for t in truths])
    s = np.concatenate([pooled[t.unit][1] for t in truths])
    assert block["auc"] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert block["pauc"] == pytest.approx(roc_auc_score(y, s, max_fpr=0.1), abs=1e-12)
    s0 = np.concatenate([official[t.unit][1] for t in truths])
    y0 = np.concatenate([[t.labels[n] for n in official[t.unit][0]] for t in truths])
    assert block["machine_detectors"]["auc"] == pytest.approx(roc_auc_score(y0, s0), abs=1e-12)
    assert block["official"] is False and block["machine_types"] == 2 and block["n_clips"] == 24


def test_results_without_the_new_fields_still_validate_and_render():
    old = {"scored": True, "official_score": 0.6, "machines": {}}
    assert extra_table("dev", [("run", old)]) == []
    new = {**old, "extra_metrics": {"official": False, "total": {"s_auc": 0.7}, "machines": {}},
           "pooled": {"official": False, "auc": 0.61, "pauc": 0.55, "rule_score": 0.6}}
    lines = extra_table("dev", [("run", new)])
    assert "not the official score" in lines[0] and "0.7000" in lines[-2] and "0.6100" in lines[-2]
    with pytest.raises(Exception, match="pooled"):
        validate_results(_results({"dev": {**old, "pooled": {"auc": 1.5, "pauc": 0.5}}}), "x.json")
    validate_results(_results({"dev": old}), "x.json")


def _results(sets):
    return {"schema_version": "1.2", "kind": "anomaly", "status": "complete", "run_fingerprint": "k",
            "encoder": {"name": "e", "version": "1"},
            "suite": {"name": "s", "version": "1", "title": "t", "synthetic": True, "comparable_to": "s",
                      "data_root": "/", "data_fingerprint": {}, "subset": False},
            "protocol": {}, "coverage": {"complete": True, "held": {}}, "options": {}, "extraction": {},
            "timings": {}, "provenance": {}, "sets": sets, "summary": {"dev": 0.6}}

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from impact_bench.metrics import confusion, scores
from impact_bench.probe import ProbeConfig, _forward_backward, init_head, run_probe, split

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from reference_probe import reference_probe  # noqa: E402


def _data(n=600, c=5, d=32, sep=0.25, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    x = rng.normal(0, 1, (c, d))[y] * sep + rng.normal(0, 1, (n, d))
    return x.astype(np.float32), y


def test_metrics_hand_computed():
    cm = confusion(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]), 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    s = scores(cm)
    np.testing.assert_allclose(s["per_class_f1"], [0.5, 0.8, 0.0])
    assert abs(s["macro_f1"] - 1.3 / 3) < 1e-12 and s["accuracy"] == 0.6
    assert abs(s["balanced_accuracy"] - (0.5 + 1 + 0) / 3) < 1e-12


@pytest.mark.parametrize("clip", [None, 0.05])
def test_manual_gradients_and_clipping_match_autograd(clip):
    gen = torch.Generator().manual_seed(0)
    heads = [init_head(6, 5, 3, gen) for _ in range(2)]
    params = [torch.stack([h[k] for h in heads]).double() for k in range(4)]
    x = torch.randn(2, 7, 6, dtype=torch.float64)
    y = torch.randint(0, 3, (2, 7))
    loss, grads = _forward_backward(params, x, y, clip)
    for s in range(2):  # the reference: autograd + clip_grad_norm_ on one seed's nn.Linear weights
        leaves = [p[s].clone().requires_grad_(True) for p in params]
        w1, b1, w2, b2 = leaves
        logits = torch.relu(x[s] @ w1 + b1) @ w2 + b2
        ref = torch.nn.functional.cross_entropy(logits, y[s])
        ref.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(leaves, clip)
        torch.testing.assert_close(loss[s], ref.detach())
        for g, leaf in zip(grads, leaves):
            torch.testing.assert_close(g[s], leaf.grad)


def test_matches_reference_dataloader_loop():
    x, y = _data()
    cfg = ProbeConfig(seeds=3, max_epochs=25, patience=3)
    fast = [scores(o.confusion)["macro_f1"] for o in run_probe(x, y, 5, cfg)]
    ref = [scores(cm)["macro_f1"] for cm in reference_probe(x, y, 5, cfg)]
    assert abs(np.mean(fast) - np.mean(ref)) < 0.01
    np.testing.assert_allclose(fast, ref, atol=0.02)


def test_same_seed_same_result_and_stratified_split():
    x, y = _data()
    cfg = ProbeConfig(seeds=2, max_epochs=10)
    a, b = run_probe(x, y, 5, cfg), run_probe(x, y, 5, cfg)
    for oa, ob in zip(a, b):
        assert np.array_equal(oa.confusion, ob.confusion) and oa.epochs == ob.epochs
    tr, te = split(y, 0.2, 0)
    assert len(tr) == 120 and len(np.intersect1d(tr, te)) == 0
    assert np.all(np.abs(np.bincount(y[tr]) / len(tr) - np.bincount(y) / len(y)) < 0.02)


def test_early_stopping_freezes_a_seed():
    x, y = _data(sep=2.0)  # separable: the training loss plateaus at ~0 quickly
    cfg = ProbeConfig(seeds=2, max_epochs=100, patience=2, lr=5e-2, lr_min=5e-2)
    outcomes = run_probe(x, y, 5, cfg)
    assert all(o.epochs < 100 for o in outcomes)


def test_fixed_split_and_standardize_recorded():
    x, y = _data()
    tr, te = split(y, 0.5, 1)
    out = run_probe(x * 100 + 50, y, 5, ProbeConfig(seeds=2, max_epochs=5, standardize=True), fixed_split=(tr, te))
    assert all(np.array_equal(o.test_idx, te) for o in out)
    assert ProbeConfig(standardize=True).as_dict()["standardize"] is True

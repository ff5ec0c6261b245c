"""IMPACT speed: extraction vs the machine's matmul-bound rate, and pretraining throughput.

Extraction: clips/s of the ``impact`` adapter (front end + encoder, inference mode) turned into achieved
FLOP/s with the model's own MAC count (≈292 M per clip; LISTEN's table: 291.3 M), divided by the FLOP/s of a
plain fp32 matmul of the transformer's FFN shape measured in the same run. Target ≥ 0.70.

Training: clips/s of one optimizer step of the reference preset (16 clones) — ours (patch-embed once, then
clone the tokens) against the authors' order (``spec.repeat_interleave(16)`` before the patch embedding),
which computes the same loss and gradients.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from impact_bench.impact.adapter import ImpactAdapter
from impact_bench.impact.config import preset
from impact_bench.impact.model import SpecFrontend
from impact_bench.impact.objective import ImpactStudent, make_teacher, pretraining_loss

EXTRACT_BATCH = 64
TRAIN_BATCH = 16
RATES: dict[str, float] = {}


def macs_per_clip(e: int = 384, depth: int = 8, tokens: int = 17, grid: int = 4) -> int:
    stem = 32 * 1 * 9 * 64 * 64                     # Conv2d(1, 32, k3, s2) → 64 x 64
    patch = e * 32 * 16 * 16 * grid * grid          # Conv2d(32, E, k16, s16) → 4 x 4
    layer = tokens * (3 * e * e + e * e + 2 * 4 * e * e) + 2 * tokens * tokens * e  # qkv, out, FFN, attention
    return stem + patch + depth * layer


def test_mac_count_matches_published():
    assert abs(macs_per_clip() / 1e6 - 291.3) < 3.0  # LISTEN README: IMPACT 291.3 M MACs


@pytest.mark.benchmark(group="impact-extract")
def test_matmul_reference(benchmark):
    a = torch.randn(EXTRACT_BATCH * 17, 384)
    b = torch.randn(384, 1536)
    benchmark.pedantic(lambda: torch.mm(a, b), rounds=30, iterations=5, warmup_rounds=3)
    RATES["matmul_flops"] = 2 * a.shape[0] * 384 * 1536 / benchmark.stats.stats.median


@pytest.mark.benchmark(group="impact-extract")
def test_extraction_rate_model(benchmark):
    """The network alone (spectrogram in, CLS out): what the 291 M MACs describe. Target ≥ 0.70."""
    if "matmul_flops" not in RATES:
        pytest.skip("needs test_matmul_reference first")
    enc = ImpactAdapter(random_init_seed=0)
    x = torch.from_numpy((np.random.default_rng(0).standard_normal((EXTRACT_BATCH, 48_000)) * 0.1).astype(np.float32))
    with torch.inference_mode():
        spec = enc.frontend(x)
        benchmark.pedantic(enc.model, args=(spec,), rounds=8, iterations=1, warmup_rounds=2)
    ratio = _report("model only", benchmark.stats.stats.median)
    assert ratio >= 0.70


@pytest.mark.benchmark(group="impact-extract")
def test_extraction_rate_end_to_end(benchmark):
    """Waveforms in, embeddings out (adds the 2048-point STFT and mel front end, not counted in the MACs)."""
    if "matmul_flops" not in RATES:
        pytest.skip("needs test_matmul_reference first")
    enc = ImpactAdapter(random_init_seed=0)
    x = (np.random.default_rng(0).standard_normal((EXTRACT_BATCH, 48_000)) * 0.1).astype(np.float32)
    benchmark.pedantic(enc.embed, args=(x,), rounds=8, iterations=1, warmup_rounds=2)
    assert _report("front end + model", benchmark.stats.stats.median) >= 0.50  # regression guard


def _report(what: str, seconds: float) -> float:
    clips_s = EXTRACT_BATCH / seconds
    flops = clips_s * 2 * macs_per_clip()
    ratio = flops / RATES["matmul_flops"]
    print(f"\nIMPACT extraction ({what}): {clips_s:.1f} clips/s = {flops / 1e9:.1f} GFLOP/s; "
          f"matmul {RATES['matmul_flops'] / 1e9:.1f} GFLOP/s; ratio {ratio:.2f}")
    return ratio


def _train_step(authors_order: bool):
    torch.manual_seed(0)
    cfg = preset("reference")
    student = ImpactStudent(cfg)
    teacher = make_teacher(student)
    optim = torch.optim.AdamW(student.parameters(), lr=5e-5, weight_decay=0.05)
    spec = SpecFrontend(cfg.frontend)(torch.randn(TRAIN_BATCH, 48_000) * 0.1)
    keep = torch.stack([torch.stack([torch.randperm(16)[:3].sort().values for _ in range(16)])
                        for _ in range(TRAIN_BATCH)])

    def step():
        if authors_order:  # every clone through the patch embedding, as the authors' loop does
            k = keep.shape[1]
            spec16 = spec.repeat_interleave(k, dim=0)
            with torch.no_grad():
                target = teacher.layer_average(spec).repeat_interleave(k, dim=0)
            pred, cls = student.forward_masked(student.patch_tokens(spec16), keep.reshape(-1, 3))
            masked = torch.ones(pred.shape[0], 16, dtype=torch.bool)
            masked.scatter_(1, keep.reshape(-1, 3), False)
            loss = (torch.nn.functional.mse_loss(pred.flatten(2).transpose(1, 2)[masked], target[:, 1:][masked])
                    + torch.nn.functional.mse_loss(cls, target[:, 0]))
        else:
            loss = pretraining_loss(student, teacher, spec, keep)["loss"]
        optim.zero_grad()
        loss.backward()
        optim.step()
        return float(loss)

    return step


@pytest.mark.benchmark(group="impact-train")
def test_train_authors_order(benchmark):
    benchmark.pedantic(_train_step(True), rounds=4, iterations=1, warmup_rounds=1)
    RATES["train_authors"] = TRAIN_BATCH / benchmark.stats.stats.median


@pytest.mark.benchmark(group="impact-train")
def test_train_ours(benchmark):
    step = _train_step(False)
    assert step() == pytest.approx(_train_step(True)(), rel=1e-5)  # same objective
    benchmark.pedantic(step, rounds=4, iterations=1, warmup_rounds=1)
    RATES["train_ours"] = TRAIN_BATCH / benchmark.stats.stats.median
    if "train_authors" in RATES:
        print(f"\nIMPACT training (reference preset, 16 clones, batch {TRAIN_BATCH}): ours "
              f"{RATES['train_ours']:.1f} clips/s vs authors' order {RATES['train_authors']:.1f} clips/s "
              f"= {RATES['train_ours'] / RATES['train_authors']:.2f}x")
        assert RATES["train_ours"] > RATES["train_authors"]

"""Golden values for the ``mahalanobis`` back end (``cov=empirical``) from the DCASE baseline's code.

Runs ``networks/criterion/mahala.py`` of the official DCASE 2023–2026 Task 2 baseline
(github.com/nttcslab/dcase2023_task2_baseline_ae, HEAD 9b64dc4) the way
``networks/dcase2023t2_ae/dcase2023t2_ae.py`` uses it in its selective-Mahalanobis mode:

- covariance (``train`` at epoch ``epochs + 1``): ``loss_function_mahala(..., update_cov=True)``
  gives each domain's residuals with their mean removed (``cov_v_diff``), ``cov_v(diff, num=1)``
  sums δδᵀ, then ``/= num − 1``; ``calc_inv_cov`` inverts both with ``torch.inverse``;
- score (``eval``): ``loss_function_mahala(recon, x, block_size, cov=inv_cov_d, use_precision=True,
  reduction=False)``, reduced by ``loss_reduction_1d`` (mean over dim 1) and ``loss_reduction``
  (sum / num), then ``min(loss_target, loss_source)``.

The adaptation to frozen embeddings (documented in docs/anomaly.md): the baseline's residual
δ = x − AE(x) becomes δ = x − μ_d, i.e. the "reconstruction" of every clip is the domain's mean
embedding, and the covariance is estimated over all of a domain's clips in one batch (the
baseline accumulates it over shuffled batches of 256 frame vectors, each centred on its own mean).

The baseline is not a package; ``mahala.py`` (torch only) is loaded from a checkout given by
environment variable (or flag), never committed:

    git --git-dir=<fetched baseline>/repo show HEAD:networks/criterion/mahala.py > /tmp/bl/mahala.py
    DCASE_BASELINE_DIR=/tmp/bl python scripts/golden/mahalanobis_baseline.py

(the directory may be a full checkout: ``networks/criterion/mahala.py`` is found there too).
Inputs: seeded float32 embeddings, D = 12, 150 source and 20 target training clips, 40 test clips
(both covariances non-singular, as the baseline needs). Writes ``tests/data/mahalanobis_golden.npz``.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "mahalanobis_golden.npz"
N_SOURCE, N_TARGET, N_TEST, DIM = 150, 20, 40, 12


def inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20261130)
    mix = rng.standard_normal((DIM, DIM)) / np.sqrt(DIM)  # correlated dimensions
    source = (rng.standard_normal((N_SOURCE, DIM)) @ mix) + 1.0
    target = (rng.standard_normal((N_TARGET, DIM)) @ (0.5 * mix + 0.3 * np.eye(DIM))) - 1.0
    test = np.concatenate([(rng.standard_normal((30, DIM)) @ mix) + 1.0, 2.0 * rng.standard_normal((10, DIM))])
    return {"train": np.concatenate([source, target]).astype(np.float32),
            "domain": np.r_[np.zeros(N_SOURCE, int), np.ones(N_TARGET, int)], "test": test.astype(np.float32)}


def load_mahala(root: Path):
    path = root / "mahala.py"
    if not path.exists():
        path = root / "networks" / "criterion" / "mahala.py"
    spec = importlib.util.spec_from_file_location("baseline_mahala", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["baseline_mahala"] = mod
    spec.loader.exec_module(mod)
    return mod


def baseline_scores(mahala, data: dict[str, np.ndarray]) -> np.ndarray:
    x = torch.from_numpy(data["train"]).float()
    is_target = (data["domain"] == 1).tolist()
    is_source = np.logical_not(is_target).tolist()
    # one batch holding every training clip; the "reconstruction" is constant (centring removes it)
    _, diff_s, diff_t = mahala.loss_function_mahala(recon_x=torch.zeros_like(x), x=x, block_size=x.shape[1],
                                                    update_cov=True, reduction=False, is_source_list=is_source,
                                                    is_target_list=is_target)
    cov_s = mahala.cov_v(diff=diff_s, num=1) / (sum(is_source) - 1)
    cov_t = mahala.cov_v(diff=diff_t, num=1) / (sum(is_target) - 1)
    model = SimpleNamespace(cov_source=SimpleNamespace(data=cov_s), cov_target=SimpleNamespace(data=cov_t))
    inv_s, inv_t = mahala.calc_inv_cov(model)
    mu_s, mu_t = x[is_source].mean(0, keepdim=True), x[is_target].mean(0, keepdim=True)
    out = []
    for row in torch.from_numpy(data["test"]).float():
        per_domain = []
        for mu, inv in ((mu_s, inv_s), (mu_t, inv_t)):
            loss, num = mahala.loss_function_mahala(recon_x=mu, x=row[None], block_size=x.shape[1], cov=inv,
                                                    use_precision=True, reduction=False)
            per_domain.append((torch.sum(torch.mean(loss, dim=1)) / num).item())  # loss_reduction(_1d)
        out.append(min(per_domain))
    return np.array(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--baseline-dir", type=Path, default=os.environ.get("DCASE_BASELINE_DIR"))
    args = p.parse_args()
    if args.baseline_dir is None:
        p.error("set DCASE_BASELINE_DIR (or --baseline-dir) to the baseline checkout")
    data = inputs()
    scores = baseline_scores(load_mahala(args.baseline_dir), data)
    np.savez_compressed(OUT, **data, selective_mahalanobis=scores)
    print(f"wrote {OUT}: {len(scores)} scores, range {scores.min():.3f}..{scores.max():.3f}")


if __name__ == "__main__":
    main()

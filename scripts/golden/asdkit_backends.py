"""Golden values for ``knn-kmeans``, ``knn-smote``, ``knn-rescale`` and ``local-density``
(``impact_bench/anomaly/backends_extra.py``) from the public code that defines them.

- ASDKit (github.com/TakuyaFujimura/dcase-asd-toolkit, HEAD ed27d82): ``asdkit/backends/kmeans.py``
  ``Kmeans``, ``asdkit/backends/knn.py`` ``Knn`` (with ``smote_ratio``) and ``KnnRescale``, run as its
  ``score`` step does: ``fit({"section", "is_target", "embed"})`` then ``anomaly_score(...)["main"]``.
- MERL (github.com/merlresearch/anomaly-score-normalization, HEAD b9998bd): ``utils.py::get_scores``
  with ``norm_type`` ratio / difference and ``K``, references = every training clip (``conf.yaml``:
  ``source_K_means: none``, ``smote: false``), unit-normalised as its embedding models output them.

Neither repository is a package here; both are imported from a checkout given by environment
variable (or flag), never committed:

    git --git-dir=<fetched asdkit>/repo archive HEAD asdkit | tar -x -C /tmp/asdkit
    git --git-dir=<fetched merl>/repo show HEAD:utils.py > /tmp/merl/utils.py
    ASDKIT_DIR=/tmp/asdkit MERL_ASN_DIR=/tmp/merl python scripts/golden/asdkit_backends.py

Import shims, which touch no code path that runs: ``asdkit/utils/common/__init__`` imports
``hydra`` (for ``instantiate_tgt``) and MERL's ``utils.py`` imports ``torchmetrics`` (for its
evaluation functions); when these are not installed an empty module stands in. ASDKit's
``Knn`` needs imbalanced-learn (a dependency of impact-bench).

Inputs: seeded float32 embeddings, D = 12: 150 source and 20 target training clips (SMOTE at ratio
0.2 then adds 10 target clips), 40 test clips. Writes ``tests/data/asdkit_backends_golden.npz``:
the inputs and one score vector per case (keys listed in ``CASES``).
"""
from __future__ import annotations

import argparse
import os
import sys
import types
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "asdkit_backends_golden.npz"
N_SOURCE, N_TARGET, N_TEST, DIM = 150, 20, 40, 12


def inputs() -> dict[str, np.ndarray]:
    """Two clusters per domain, target shifted, test = a mix of both plus outliers (PCG64 is stable)."""
    rng = np.random.default_rng(20261129)
    centre_s, centre_t = rng.standard_normal(DIM), rng.standard_normal(DIM)
    source = centre_s + 0.6 * rng.standard_normal((N_SOURCE, DIM))
    target = centre_t + 0.6 * rng.standard_normal((N_TARGET, DIM))
    test = np.concatenate([centre_s + 0.6 * rng.standard_normal((15, DIM)),
                           centre_t + 0.6 * rng.standard_normal((15, DIM)),
                           1.5 * rng.standard_normal((N_TEST - 30, DIM))])
    train = np.concatenate([source, target]).astype(np.float32)
    domain = np.r_[np.zeros(N_SOURCE, int), np.ones(N_TARGET, int)]
    return {"train": train, "domain": domain, "test": test.astype(np.float32)}


def shim(name: str, **attrs) -> None:
    try:
        __import__(name)
    except ImportError:
        mod = types.ModuleType(name)
        for k, v in attrs.items():
            setattr(mod, k, v)
        sys.modules[name] = mod


def asdkit_cases(asdkit_dir: Path, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    shim("hydra")
    shim("hydra.utils", instantiate=None)
    sys.path.insert(0, str(asdkit_dir))
    from asdkit.backends import Kmeans, Knn, KnnRescale

    train = {"section": np.zeros(len(data["train"]), int), "is_target": data["domain"], "embed": data["train"]}
    test = {"section": np.zeros(len(data["test"]), int), "embed": data["test"]}

    def run(backend) -> np.ndarray:
        backend.fit(train)
        return np.asarray(backend.anomaly_score(test)["main"], dtype=np.float64)

    return {
        # ASDKit config/score/experiments/default.yaml values, n_clusters reduced to the small bank
        "kmeans_cosine_c8": run(Kmeans(n_clusters=8, metric="cosine")),
        "kmeans_euclid_c8": run(Kmeans(n_clusters=8, metric="euclid")),
        "smote_cosine_k1": run(Knn(n_neighbors_so=1, n_neighbors_ta=1, metric="cosine", smote_ratio=0.2,
                                   smote_neighbors=2)),
        "smote_euclid_k3": run(Knn(n_neighbors_so=3, n_neighbors_ta=3, metric="euclid", smote_ratio=0.2,
                                   smote_neighbors=2)),
        "rescale_cosine_k1_ref4": run(KnnRescale(n_neighbors=1, k_ref_normalize=4, metric="cosine")),
        "rescale_euclid_k3_ref2": run(KnnRescale(n_neighbors=3, k_ref_normalize=2, metric="euclid")),
    }


def merl_cases(merl_dir: Path, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    import torch

    shim("torchmetrics")
    sys.path.insert(0, str(merl_dir))
    import utils as merl  # MERL utils.py

    out = {}
    for use_mse in (False, True):
        refs = torch.from_numpy(data["train"])
        test = torch.from_numpy(data["test"])
        if not use_mse:  # MERL's embedding models output unit vectors (network.py F.normalize)
            refs, test = torch.nn.functional.normalize(refs, dim=1), torch.nn.functional.normalize(test, dim=1)
        ids_r, ids_t = torch.zeros(len(refs)), torch.zeros(len(test))
        labels = torch.from_numpy((data["domain"] == 0).astype(np.float32))  # MERL: 1 = source
        for norm_type in ("ratio", "difference"):
            for k in (1, 3):
                s = merl.get_scores(refs, ids_r, labels, test, ids_t, use_mse=use_mse, K=k, norm_type=norm_type)
                out[f"merl_{'euclid' if use_mse else 'cosine'}_{norm_type}_K{k}"] = s.double().numpy()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--asdkit-dir", type=Path, default=os.environ.get("ASDKIT_DIR"))
    p.add_argument("--merl-dir", type=Path, default=os.environ.get("MERL_ASN_DIR"))
    args = p.parse_args()
    if args.asdkit_dir is None or args.merl_dir is None:
        p.error("set ASDKIT_DIR and MERL_ASN_DIR (or --asdkit-dir / --merl-dir) to the checkouts")
    data = inputs()
    cases = {**asdkit_cases(args.asdkit_dir, data), **merl_cases(args.merl_dir, data)}
    np.savez_compressed(OUT, **data, **cases)
    print(f"wrote {OUT}: {sorted(cases)}")


if __name__ == "__main__":
    main()

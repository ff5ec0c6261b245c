"""``opensmile``: openSMILE functionals via the ``opensmile`` package (IMPACT paper §5.2).

Paper: "We use the ComParE feature set" → ComParE_2016 functionals, 6,373-d (default). The
authors' later DINOS framework used eGeMAPSv02 (88-d) instead; ``feature_set=eGeMAPSv02`` selects
it. openSMILE processes at the rate it is given, and its spectral features depend on that rate
(measured with audeering/opensmile-python 2.6.0: 48 kHz vs 16 kHz changes 60 % of features by >1 %), so the rate is part
of the config: default 48 kHz, DINOS' native rate.

LICENCE: audEERING openSMILE research licence — non-commercial use only.
"""
from __future__ import annotations

import numpy as np

from impact_bench.errors import EncoderError

FEATURE_DIMS = {"ComParE_2016": 6373, "eGeMAPSv02": 88}


class OpenSmileEncoder:
    name = "opensmile"
    version = "1"
    min_input_seconds = 0.06  # all-NaN functionals below (opensmile 2.6.0, measured: < 960 samples at 16 kHz)
    max_input_seconds = None

    def __init__(self, feature_set: str = "ComParE_2016", sample_rate: int = 48_000) -> None:
        try:
            import opensmile
        except ImportError as exc:
            raise EncoderError("encoder 'opensmile' needs the opensmile package: "
                               "pip install 'impact-bench[opensmile]'") from exc
        if feature_set not in FEATURE_DIMS:
            raise EncoderError(f"opensmile: feature_set must be one of {sorted(FEATURE_DIMS)}, got {feature_set!r}")
        self.sample_rate = int(sample_rate)
        self.embedding_dim = FEATURE_DIMS[feature_set]
        self.config = {"feature_set": feature_set, "feature_level": "Functionals", "sample_rate": self.sample_rate,
                       "opensmile_version": opensmile.__version__}
        self._smile = opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, feature_set),
                                      feature_level=opensmile.FeatureLevel.Functionals)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        rows = [self._smile.process_signal(np.asarray(x, dtype=np.float32), self.sample_rate).to_numpy()[0]
                for x in np.asarray(batch)]
        return np.stack(rows).astype(np.float32)

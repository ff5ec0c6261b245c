"""Paired-comparison statistics for the leaderboards: pure functions on numpy arrays.

- :mod:`~impact_bench.stats.classification`: macro-F1, the two-level cluster bootstrap over repeated
  overlapping splits (the default test; clips and the seeds' head effects), Nadeau-Bengio corrected t, paired t, Wilcoxon.
- :mod:`~impact_bench.stats.auc`: DeLong AUC variance / paired test (Sun & Xu midranks) and a
  stratified paired bootstrap for pAUC, harmonic means and F1.
- :mod:`~impact_bench.stats.multiple`: Holm / Benjamini-Hochberg adjustment and leaderboard tie groups.
"""
from impact_bench.stats._common import StatsInputError
from impact_bench.stats.auc import (DeLongPairedResult, DeLongResult, PairedBootstrapResult, binary_f1,
                                    bootstrap_many, delong_auc_variance, delong_ci, delong_many, delong_paired, harmonic_mean,
                                    on_subset, paired_bootstrap, partial_auc, per_resample, structural_components,
                                    weighted_auc)
from impact_bench.stats.classification import (DEFAULT_LEVELS, LEVELS, ClusterBootstrapResult, PairwiseBootstrapResult,
                                               TTestResult, WilcoxonResult, bootstrap_distribution, cluster_bootstrap, cluster_bootstrap_pairwise,
                                               cluster_bootstrap_reference, corrected_resampled_ttest, macro_f1,
                                               paired_ttest, wilcoxon)
from impact_bench.stats.multiple import adjust, tie_groups

__all__ = [
    "DEFAULT_LEVELS", "LEVELS", "ClusterBootstrapResult", "DeLongPairedResult", "DeLongResult", "PairedBootstrapResult",
    "PairwiseBootstrapResult", "StatsInputError", "TTestResult", "WilcoxonResult", "adjust", "binary_f1",
    "bootstrap_distribution", "bootstrap_many", "cluster_bootstrap", "cluster_bootstrap_pairwise", "cluster_bootstrap_reference",
    "corrected_resampled_ttest", "delong_auc_variance", "delong_ci", "delong_many", "delong_paired",
    "harmonic_mean", "macro_f1", "on_subset", "paired_bootstrap", "paired_ttest", "partial_auc",
    "per_resample", "structural_components", "tie_groups", "weighted_auc", "wilcoxon",
]

"""IMPACT: the package's own encoder — model, pretraining, checkpoints, adapter."""

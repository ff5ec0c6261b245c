"""Anomalous-sound detection: DCASE Task 2 / MIMII / DINOS anomaly suites on frozen embeddings."""

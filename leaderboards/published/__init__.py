"""Published reference numbers (IMPACT paper Tables 2-4). Installed as ``impact_bench.published``; this file only makes the folder importable."""

"""Suite definition files (data). Installed as ``impact_bench.task_files``; this file only makes the folder importable."""

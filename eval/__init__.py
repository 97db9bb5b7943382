"""Offline evaluation of coursemate: retrieval metrics on the course questions or any BEIR dataset,
ablation grids, answer checks, and the baseline gate CI runs (see eval/README.md)."""

"""Hybrid retrieval over the index built by `python -m indexing`: dense + BM25, fused, one hit per file."""

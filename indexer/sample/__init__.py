"""The deterministic sample marketplace.

Owns the sample catalog, brand keywords and personas used by the README, tests and benchmarks.
Self-contained: imports nothing else from `indexer`.
"""

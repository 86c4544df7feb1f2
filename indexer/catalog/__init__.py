"""Catalog input.

Owns file formats (JSONL/CSV/Parquet), row validation into `Product`/`BrandKeyword` values or
rejects naming the field, and id de-duplication. May import `core`, `text`.
"""

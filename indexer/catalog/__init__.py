"""Catalog input.

Owns file formats (JSONL/CSV/Parquet), row validation (pydantic row types in `rows.py`, field
types in `fields.py`) into `Product`/`BrandKeyword` values or rejects naming the field, and id
de-duplication. May import `core`, `text`.
"""

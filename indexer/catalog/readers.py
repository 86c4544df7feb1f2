"""Catalog sources: JSONL (optionally gzip), CSV and Parquet, read row by row.

A reader yields raw rows with their position so that every reject can name file:line; it never
validates fields (that is `validate.py`), it only reports rows it cannot parse at all.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import orjson

from indexer.catalog.models import Reject
from indexer.core.errors import CatalogError

Row = tuple[int, dict[str, Any] | Reject]
"""(1-based line or row number, parsed row or the reason it could not be parsed)."""

FORMATS = ("jsonl", "csv", "parquet")


def detect_format(path: Path) -> str:
    """Format by file name: .jsonl/.ndjson/.json (one object a line), .csv, .parquet; .gz allowed."""
    name = path.name.lower().removesuffix(".gz")
    for suffix, fmt in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "jsonl"),
                        (".csv", "csv"), (".parquet", "parquet")):
        if name.endswith(suffix):
            return fmt
    raise CatalogError(f"{path}: unknown catalog format (use .jsonl, .csv or .parquet)")


def check_source(path: Path) -> str:
    """The format of a readable catalog file.

    Raises:
        CatalogError: the file is missing or its format unknown.

    """
    if not path.is_file():
        raise CatalogError(f"{path}: no such file")
    return detect_format(path)


def _open_text(path: Path) -> TextIO:
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")


def read_rows(path: Path | str, fmt: str | None = None) -> Iterator[Row]:
    """Yield every row of a catalog file.

    Raises:
        CatalogError: the file is missing or not a readable file of its format.

    """
    path = Path(path)
    detected = check_source(path)
    fmt = fmt or detected
    if fmt == "jsonl":
        yield from _jsonl(path)
    elif fmt == "csv":
        yield from _csv(path)
    elif fmt == "parquet":
        yield from _parquet(path)
    else:
        raise CatalogError(f"{path}: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _jsonl(path: Path) -> Iterator[Row]:
    try:
        with _open_text(path) as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    value = orjson.loads(line)  # ~4x json's speed; same errors (a subclass)
                except orjson.JSONDecodeError as exc:
                    yield number, Reject(str(path), number, f"bad JSON: {exc.msg} at column {exc.colno}")
                    continue
                if not isinstance(value, dict):
                    yield number, Reject(str(path), number, "a line must be a JSON object")
                    continue
                yield number, value
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        raise CatalogError(f"{path}: cannot read as UTF-8 JSON lines: {exc}") from exc


_JSON_COLUMNS = frozenset({"category", "bullet_points", "bullets", "attributes", "aliases",
                           "landing_products", "landing_categories"})


def _csv(path: Path) -> Iterator[Row]:
    try:
        with _open_text(path) as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames:
                raise CatalogError(f"{path}: CSV has no header row")
            for record in reader:
                line = reader.line_num
                if None in record:
                    yield line, Reject(str(path), line, "more values than header columns")
                    continue
                row: dict[str, Any] = {}
                for key, raw in record.items():
                    if raw is None or raw == "":
                        continue
                    if key in _JSON_COLUMNS and raw.lstrip()[:1] in "[{":
                        try:
                            row[key] = json.loads(raw)
                        except json.JSONDecodeError:
                            row[key] = raw
                    else:
                        row[key] = raw
                yield line, row
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CatalogError(f"{path}: cannot read as UTF-8 CSV: {exc}") from exc


def _parquet(path: Path) -> Iterator[Row]:
    import pyarrow.parquet as pq  # heavy import, only for Parquet sources

    try:
        source = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise CatalogError(f"{path}: not a readable Parquet file: {exc}") from exc
    number = 0
    for batch in source.iter_batches(batch_size=4096):
        for record in batch.to_pylist():
            number += 1
            yield number, {k: v for k, v in record.items() if v is not None}

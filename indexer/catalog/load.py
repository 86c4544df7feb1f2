"""Read catalog files into validated values, collecting every reject with file:line."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from indexer.catalog.models import BrandKeyword, Product, Reject
from indexer.catalog.readers import detect_format, read_rows
from indexer.catalog.validate import FieldError, brand_keyword_from_row, product_from_row, reject_for

T = TypeVar("T", Product, BrandKeyword)


@dataclass
class RejectLog:
    """Rows seen and rows refused, with reasons, for the build summary and report file."""

    rows: int = 0
    rejects: list[Reject] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """Rows that became values."""
        return self.rows - len(self.rejects)

    @property
    def ratio(self) -> float:
        """Share of rows rejected (0 when there were no rows)."""
        return len(self.rejects) / self.rows if self.rows else 0.0

    def write(self, path: Path) -> Path:
        """One JSON object a reject, for people and scripts to follow up."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            for r in self.rejects:
                fh.write(json.dumps({"source": r.source, "line": r.line, "id": r.id, "field": r.field,
                                     "reason": r.reason}, ensure_ascii=False) + "\n")
        return path


def count_rows(paths: Iterable[Path]) -> int | None:
    """Rows in the sources, cheaply, for a progress bar; None when unknown."""
    total = 0
    for path in paths:
        fmt = detect_format(path)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            total += pq.ParquetFile(path).metadata.num_rows
            continue
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as fh:
            lines = sum(1 for line in fh if line.strip())
        total += lines - (1 if fmt == "csv" else 0)
    return total


def _validated(paths: Iterable[Path], parse: Callable[[Mapping[str, Any]], T], log: RejectLog,
               key: Callable[[T], str]) -> Iterator[T]:
    seen: dict[str, str] = {}
    for path in paths:
        for line, row in read_rows(path):
            log.rows += 1
            if isinstance(row, Reject):
                log.rejects.append(row)
                continue
            try:
                value = parse(row)
            except FieldError as exc:
                log.rejects.append(reject_for(str(path), line, row, exc))
                continue
            ident = key(value)
            if ident in seen:
                # Keeping both would make one silently overwrite the other in ES.
                log.rejects.append(Reject(str(path), line, f"duplicate id, first seen at {seen[ident]}",
                                          field="id", id=ident))
                continue
            seen[ident] = f"{path}:{line}"
            yield value


def products(paths: Iterable[Path], log: RejectLog) -> Iterator[Product]:
    """Valid, id-unique products from the sources; rejects go to `log`."""
    return _validated(paths, product_from_row, log, lambda p: p.id)


def brand_keywords(paths: Iterable[Path], log: RejectLog) -> Iterator[BrandKeyword]:
    """Valid, id-unique brand keywords from the sources; rejects go to `log`."""
    return _validated(paths, brand_keyword_from_row, log, lambda k: k.id)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of `size` values (the last may be shorter), read lazily."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch

"""Catalog validation throughput: rows/s of reading and validating a sample catalog.

    PYTHONPATH=$PWD .venv/bin/python bench/catalog.py [--catalog /tmp/cat100k] [--rounds 5]

Times `load.products` over `products.jsonl` (read, parse, validate, de-duplicate: what a build
does before it embeds) and, to separate the validation's share from the reading's, validation
alone over rows parsed into memory beforehand; brand keywords the same way. Generates the catalog
when it is missing (`indexer sample`). Prints the median of the rounds in rows per wall second and
per CPU second of this process (steadier on a shared machine). To compare two commits, alternate
their runs in one session: these machines drift by several percent over minutes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.catalog import load  # noqa: E402
from indexer.catalog.validate import FieldError, brand_keyword_from_row, product_from_row  # noqa: E402
from indexer.sample import generate  # noqa: E402

KEYWORD_REPEATS = 50
"""The sample has a few hundred brand keywords: validate them this many times for a stable rate."""


def timed(count: Callable[[], int]) -> tuple[float, float]:
    """Rows per wall second and per CPU second of one call of `count` (which returns its rows)."""
    wall, cpu = time.perf_counter(), time.process_time()
    rows = count()
    return rows / (time.perf_counter() - wall), rows / (time.process_time() - cpu)


def read_and_validate(path: Path, values: Callable[[Iterable[Path], load.RejectLog], Iterable[object]]) -> int:
    """Rows the loader accepts; a reject stops the benchmark (it would skew the rate)."""
    log = load.RejectLog()
    accepted = sum(1 for _ in values([path], log))
    if log.rejects:
        raise SystemExit(f"catalog: {len(log.rejects)} rejects, first: {log.rejects[0].describe()}")
    return accepted


def validate_only(rows: list[Mapping[str, Any]], parse: Callable[[Mapping[str, Any]], object]) -> int:
    """Rows validated, from rows parsed beforehand."""
    for row in rows:
        try:
            parse(row)
        except FieldError as exc:
            raise SystemExit(f"catalog: a sample row was rejected: {exc.field}: {exc.reason}") from exc
    return len(rows)


def parsed(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", type=Path, default=Path("/tmp/cat100k"))
    parser.add_argument("--size", type=int, default=100_000, help="rows to generate when the catalog is missing")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    products, keywords = args.catalog / "products.jsonl", args.catalog / "brand_keywords.jsonl"
    if not products.exists():
        generate.write(args.catalog, args.size)
    product_rows, keyword_rows = parsed(products), parsed(keywords)
    many_keywords = keyword_rows * KEYWORD_REPEATS
    validate_only(product_rows[:2000], product_from_row)  # warm-up: imports, lazily built validators
    cases: dict[str, Callable[[], int]] = {
        "products read+validate": lambda: read_and_validate(products, load.products),
        "products validate only": lambda: validate_only(product_rows, product_from_row),
        "keywords read+validate": lambda: read_and_validate(keywords, load.brand_keywords),
        "keywords validate only": lambda: validate_only(many_keywords, brand_keyword_from_row),
    }
    rates: dict[str, list[tuple[float, float]]] = {label: [] for label in cases}
    for _ in range(args.rounds):
        for label, case in cases.items():
            rates[label].append(timed(case))
    print(f"catalog {args.catalog}: {len(product_rows)} products, {len(keyword_rows)} brand keywords, "
          f"median of {args.rounds} rounds")
    print(f"{'':<24} {'rows/s (wall)':>14} {'rows/s (CPU)':>14}")
    for label, values in rates.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        print(f"{label:<24} {wall:>14,.0f} {cpu:>14,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

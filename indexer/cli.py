"""`indexer` command line: generate a sample catalog, build versions, list them.

Exit codes: 0 success, 1 the job failed (message on stderr), 2 bad arguments or configuration.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from indexer.config import Settings
from indexer.errors import ConfigError, IndexerError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="indexer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sample = sub.add_parser("sample", help="write a deterministic sample catalog (JSONL)")
    sample.add_argument("--size", type=int, default=3000, help="number of products (default 3000)")
    sample.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    sample.add_argument("--out", type=Path, default=Path("data/sample"), help="output directory")

    build = sub.add_parser("build", help="build a new verified version and make it live")
    build.add_argument("products", type=Path, nargs="+", help="product files (.jsonl[.gz], .csv, .parquet)")
    build.add_argument("--brand-keywords", type=Path, action="append", default=[],
                       help="brand keyword file; without it the live brand keywords stay as they are")
    build.add_argument("--max-reject-ratio", type=float, default=0.05,
                       help="fail (no swap) when more than this share of rows is rejected (default 0.05)")
    build.add_argument("--allow-failures", type=int, default=0,
                       help="documents Elasticsearch may refuse before the build fails (default 0)")
    build.add_argument("--reject-dir", type=Path, default=Path("data/reports"),
                       help="where <version>-rejects.jsonl lists rejected rows (default data/reports)")
    build.add_argument("--batch-size", type=int, default=1024, help="products per encode+bulk step")
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    build.add_argument("--no-embed-cache", action="store_true",
                       help="encode every product even if its text was embedded before")

    sub.add_parser("versions", help="list product index versions and the live one")
    return parser


def _sample(args: argparse.Namespace) -> int:
    from indexer import sample

    if args.size < 1:
        raise ConfigError("--size must be at least 1")
    paths = sample.write(args.out, args.size, seed=args.seed)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _build(args: argparse.Namespace, settings: Settings) -> int:
    from indexer.build import BuildOptions, build
    from indexer.embedder import SentenceTransformerEmbedder
    from indexer.es import make_client

    if not 0 <= args.max_reject_ratio <= 1:
        raise ConfigError("--max-reject-ratio must be between 0 and 1")
    if args.allow_failures < 0 or args.batch_size < 1:
        raise ConfigError("--allow-failures must be >= 0 and --batch-size >= 1")
    options = BuildOptions(products=tuple(args.products), brand_keywords=tuple(args.brand_keywords),
                           max_reject_ratio=args.max_reject_ratio, allow_failures=args.allow_failures,
                           reject_dir=args.reject_dir, batch_size=args.batch_size,
                           progress=not args.no_progress and sys.stderr.isatty(),
                           embed_cache=not args.no_embed_cache)
    embedder = SentenceTransformerEmbedder.from_settings(settings)
    es = make_client(settings)
    try:
        report = build(settings, es, embedder, options)
    finally:
        es.close()
    print(f"version        {report.products_index}")
    if report.brand_keywords_index:
        print(f"brand keywords {report.brand_keywords_index} ({report.brand_keywords} keywords)")
    print(f"products       {report.accepted} indexed of {report.rows} rows, {len(report.rejects)} rejected")
    print(f"vectors        {report.vectors} in {report.snapshot}")
    print(f"time           {report.seconds:.1f} s, {report.docs_per_s:.0f} docs/s "
          f"(encoding {report.embed_seconds:.1f} s; {report.cache_hits} embeddings cached, "
          f"{report.cache_misses} encoded)")
    print(f"previous       {report.previous or '-'}")
    if report.failures:
        print(f"refused        {len(report.failures)} (allowed by --allow-failures)")
    for reject in report.rejects[:5]:
        print(f"rejected       {reject.describe()}")
    if report.reject_report:
        print(f"reject report  {report.reject_report}")
    return 0


def _versions(settings: Settings) -> int:
    from indexer.es import make_client
    from indexer.versions import list_versions

    es = make_client(settings)
    for alias in (settings.products_alias, settings.brand_keywords_alias):
        for name, count, live in list_versions(es, alias):
            print(f"{'*' if live else ' '} {name}  {count} docs")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `indexer` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        if args.command == "sample":
            return _sample(args)
        if args.command == "build":
            return _build(args, settings)
        return _versions(settings)
    except ConfigError as exc:
        print(f"indexer: error: {exc}", file=sys.stderr)
        return 2
    except IndexerError as exc:
        print(f"indexer: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("indexer: interrupted; the live version is unchanged", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

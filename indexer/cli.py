"""`indexer` command line: sample catalogs, full builds, incremental changes, version management.

Exit codes: 0 success, 1 the job failed (message on stderr), 2 bad arguments or configuration.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.core.config import Settings

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from indexer.store.records import BuildRecord
from indexer.core.errors import ConfigError
from indexer.core.exits import quiet_logging, run_command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="indexer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sample = sub.add_parser("sample", help="write a deterministic sample catalog (JSONL)")
    sample.add_argument("--size", type=int, default=3000, help="number of products (default 3000)")
    sample.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    sample.add_argument("--out", type=Path, default=Path("data/sample"), help="output directory")
    sample.add_argument("--personas", type=int, default=0, metavar="N",
                        help="also write N shoppers with viewing histories and hidden preferences "
                             "(personas.jsonl, for bench/personalisation.py)")

    build = sub.add_parser("build", help="build a new verified version and make it live")
    build.add_argument("products", type=Path, nargs="*", help="product files (.jsonl[.gz], .csv, .parquet)")
    build.add_argument("--resume", metavar="STAMP",
                       help="continue an interrupted build ('latest' or its stamp) from its checkpoint")
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
    build.add_argument("--full", action="store_true",
                       help="write every document, even when the live version could be cloned and updated")
    build.add_argument("--no-cache", action="store_true",
                       help="encode and analyse every product even if it was seen before (STORESEARCH_CACHE_DIR)")

    upsert = sub.add_parser("upsert", help="insert or replace products in the live version")
    upsert.add_argument("products", type=Path, nargs="+", help="product files (.jsonl[.gz], .csv, .parquet)")
    upsert.add_argument("--max-reject-ratio", type=float, default=0.05,
                        help="write nothing when more than this share of rows is rejected (default 0.05)")

    delete = sub.add_parser("delete", help="delete products from the live version (tombstones)")
    delete.add_argument("ids", nargs="+", help="product ids, or files of one id (or JSON object) a line")

    sub.add_parser("versions", help="list versions with their state, counts and the live one")
    rollback = sub.add_parser("rollback", help="make the previous verified version live again")
    rollback.add_argument("--to", metavar="STAMP", help="a specific earlier version instead")
    prune = sub.add_parser("prune", help="delete old versions (never the live or the previous one)")
    prune.add_argument("--keep", type=int, default=None,
                       help="versions to keep (default STORESEARCH_KEEP_VERSIONS)")
    discard = sub.add_parser("discard", help="delete an interrupted or failed build")
    discard.add_argument("stamp")
    return parser


def _sample(args: argparse.Namespace) -> int:
    from indexer.sample import generate

    if args.size < 1 or args.personas < 0:
        raise ConfigError("--size must be at least 1 and --personas at least 0")
    paths = generate.write(args.out, args.size, seed=args.seed, personas=args.personas)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _build(args: argparse.Namespace, settings: Settings) -> int:
    from indexer.build.pipeline import BuildOptions, build
    from indexer.core.es import make_client
    from indexer.embedding.encoders import load_embedder

    if not 0 <= args.max_reject_ratio <= 1:
        raise ConfigError("--max-reject-ratio must be between 0 and 1")
    if args.allow_failures < 0 or args.batch_size < 1:
        raise ConfigError("--allow-failures must be >= 0 and --batch-size >= 1")
    if not args.products and not args.resume:
        raise ConfigError("give product files to build, or --resume")
    if args.products and args.resume:
        raise ConfigError("--resume reads the files of the interrupted build; give no product files")
    options = BuildOptions(products=tuple(args.products), brand_keywords=tuple(args.brand_keywords),
                           max_reject_ratio=args.max_reject_ratio, allow_failures=args.allow_failures,
                           reject_dir=args.reject_dir, batch_size=args.batch_size,
                           progress=not args.no_progress and sys.stderr.isatty(),
                           cache=not args.no_cache, reuse=not args.full)
    embedder = load_embedder(settings)
    es = make_client(settings)
    try:
        report = build(settings, es, embedder, options, resume=args.resume)
    finally:
        es.close()
    print(f"version        {report.products_index}{' (resumed)' if report.resumed else ''}")
    if report.brand_keywords_index:
        print(f"brand keywords {report.brand_keywords_index} ({report.brand_keywords} keywords)")
    if report.suggestions_index:
        print(f"suggestions    {report.suggestions_index} ({report.suggestions} texts, "
              f"{report.phases.get('suggestions', 0.0):.1f} s)")
    print(f"products       {report.accepted} indexed of {report.rows} rows, {len(report.rejects)} rejected")
    print(f"vectors        {report.vectors} in {report.snapshot}")
    if report.base:
        print(f"started from   a clone of {report.base}: {report.rewritten} products written, "
              f"{report.removed} removed, the rest kept")
    print(f"time           {report.seconds:.1f} s, {report.docs_per_s:.0f} docs/s "
          f"(encoding {report.embed_seconds:.1f} s; {report.cache_hits} embeddings cached, "
          f"{report.cache_misses} encoded)")
    print(f"previous       {report.previous or '-'}")
    if report.replayed:
        print(f"replayed       {report.replayed} changes made to the live version during the build")
    if report.pruned:
        print(f"pruned         {', '.join(report.pruned)}")
    if report.failures:
        print(f"refused        {len(report.failures)} (allowed by --allow-failures)")
    for reject in report.rejects[:5]:
        print(f"rejected       {reject.describe()}")
    if report.reject_report:
        print(f"reject report  {report.reject_report}")
    return 0


def _versions(es: Elasticsearch, settings: Settings) -> int:
    from indexer.store.records import all_records
    from indexer.store.versions import alias_target, list_versions

    records = {r.products_index: r for r in all_records(es, settings)}
    live = alias_target(es, settings.products_alias)
    print(f"  {'version':<44} {'state':<12} {'docs':>9}  {'started':<25} note")
    seen = set()
    for name, count, _ in list_versions(es, settings.products_alias):
        seen.add(name)
        r = records.get(name)
        note = (r.error or _origin(r)) if r else "no build record"
        print(f"{'*' if name == live else ' '} {name:<44} {(r.state if r else '?'):<12} {count:>9}  "
              f"{(r.started if r else ''):<25} {note}")
    for name, r in records.items():  # builds whose index is gone: failed, discarded, pruned
        if name not in seen and r.state in ("failed", "interrupted", "running"):
            print(f"  {name:<44} {r.state:<12} {'-':>9}  {r.started:<25} {r.error or ''}")
    return 0


def _origin(record: BuildRecord) -> str:
    """How a version was made: cloned from another (and how much it rewrote), or written whole."""
    if record.base:
        return f"clone of {record.base}: {record.rewritten} written, {record.removed} removed"
    return ""


def _upsert(args: argparse.Namespace, es: Elasticsearch, settings: Settings) -> int:
    from indexer.build.changes import upsert
    from indexer.embedding.encoders import load_embedder

    if not 0 <= args.max_reject_ratio <= 1:
        raise ConfigError("--max-reject-ratio must be between 0 and 1")
    embedder = load_embedder(settings)
    report = upsert(settings, es, embedder, args.products, max_reject_ratio=args.max_reject_ratio)
    print(f"upserted {report.written} products into {report.index} (seq {report.seq}; "
          f"{report.encoded} embedded, {len(report.rejects)} rejected) in {report.seconds:.1f} s")
    for reject in report.rejects[:5]:
        print(f"rejected       {reject.describe()}")
    for failure in report.failures[:5]:
        print(f"refused        {failure.id}: {failure.reason}")
    return 1 if report.failures else 0


def _delete(args: argparse.Namespace, es: Elasticsearch, settings: Settings) -> int:
    from indexer.build.changes import delete, read_ids

    report = delete(settings, es, read_ids(args.ids))
    print(f"deleted {report.written} products from {report.index} (seq {report.seq}) "
          f"in {report.seconds:.1f} s")
    if report.not_found:
        print(f"not found      {len(report.not_found)}: {', '.join(report.not_found[:10])}")
    return 1 if report.failures else 0


def _manage(args: argparse.Namespace, es: Elasticsearch, settings: Settings) -> int:
    from indexer.store import lifecycle

    if args.command == "rollback":
        done = lifecycle.rollback(es, settings, to=args.to)
        print(f"live version   {done.to_index} (was {done.from_index}; "
              f"{done.replayed} live changes carried over)")
    elif args.command == "prune":
        keep = settings.keep_versions if args.keep is None else args.keep
        if keep < 2:
            raise ConfigError("--keep must be at least 2 (the live and the previous version)")
        pruned = lifecycle.prune(es, settings, keep=keep)
        print(f"pruned         {', '.join(pruned) if pruned else 'nothing'}")
    else:
        record = lifecycle.discard(es, settings, args.stamp)
        print(f"discarded      {record.products_index}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `indexer` console script."""
    args = _parser().parse_args(argv)
    quiet_logging()
    return run_command("indexer", lambda: _dispatch(args),
                       interrupted="interrupted; the live version is unchanged")


def _dispatch(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.command == "sample":
        return _sample(args)
    if args.command == "build":
        return _build(args, settings)
    from indexer.core.es import make_client

    es = make_client(settings)
    try:
        if args.command == "upsert":
            return _upsert(args, es, settings)
        if args.command == "delete":
            return _delete(args, es, settings)
        if args.command == "versions":
            return _versions(es, settings)
        return _manage(args, es, settings)
    finally:
        es.close()


if __name__ == "__main__":
    sys.exit(main())

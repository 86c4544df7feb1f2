"""`search-api serve|events-retention|audit|keys|analytics|synonyms|rules`: the service and its jobs.

`serve` runs the HTTP service; `events-retention` drops old event and query-log days; `audit` runs
batch audits; `keys` adds, rotates, revokes and lists API keys; `analytics` prints search analytics,
`judgments` derives graded judgments from clicks, `eval` scores the live index on judgments;
`synonyms check FILE` validates a synonym file before it is deployed; `rules` lists, puts and
deletes merchandising rules.

Exit codes: 0 success or normal stop, 1 the job failed, 2 bad arguments or configuration.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from indexer.index_format import USAGE, ConfigError, quiet_logging, run_command
from search_api.core.settings import ApiSettings


def _parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per job."""
    parser = argparse.ArgumentParser(prog="search-api", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve /search, /healthz, /readyz")
    serve.add_argument("--host", default=None, help="bind address (default STORESEARCH_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default STORESEARCH_PORT or 8000)")
    serve.add_argument("--threads", type=int, default=None,
                       help="request threads per process (default STORESEARCH_THREADS, or 4 per gunicorn "
                            "worker, 8 for waitress)")
    serve.add_argument("--workers", type=int, default=None,
                       help="worker processes (default STORESEARCH_WORKERS or 2; gunicorn only)")
    serve.add_argument("--server", choices=("gunicorn", "waitress"), default=None,
                       help="gunicorn: preloaded master + workers, graceful reload on HUP (default); "
                            "waitress: one process (default STORESEARCH_SERVER)")
    retention = sub.add_parser("events-retention",
                               help="drop daily events and query-log indices older than --days (UTC days)")
    retention.add_argument("--days", type=int, default=None,
                           help="days to keep (default STORESEARCH_EVENTS_RETENTION_DAYS, 90)")
    retention.add_argument("--dry-run", action="store_true", help="list what would be dropped")
    from search_api.brands import audit_cli

    audit_cli.add_parser(sub)
    from search_api.http import keys_cli

    keys_cli.add_parser(sub)
    from search_api.analytics import analytics_cli

    analytics_cli.add_parser(sub)
    from search_api.retrieval import eval_cli
    from search_api.rules import rules_cli

    rules_cli.add_parser(sub)

    eval_cli.add_parser(sub)
    from search_api.retrieval import ranker_cli

    ranker_cli.add_parser(sub)
    synonyms = sub.add_parser("synonyms", help="check a synonym file (Solr format)")
    synonyms_sub = synonyms.add_subparsers(dest="synonyms_command", required=True)
    check = synonyms_sub.add_parser("check", help="validate a file: exit 0 with its rule count, 2 naming file:line")
    check.add_argument("file", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `search-api` console script."""
    args = _parser().parse_args(argv)
    if args.command == "synonyms":
        return run_command("search-api", lambda: _check_synonyms(args.file))
    if args.command == "events-retention":
        return _retention(args)
    if args.command == "audit":
        return _audit(args)
    from search_api.analytics import analytics_cli
    from search_api.http import keys_cli
    from search_api.retrieval import eval_cli, ranker_cli
    from search_api.rules import rules_cli

    if args.command == "keys":
        return run_command("search-api", lambda: keys_cli.run(args, ApiSettings.from_env()))
    jobs = {"analytics": analytics_cli.run, "judgments": analytics_cli.run_judgments, "eval": eval_cli.run,
            "rules": rules_cli.run, "train-ranker": ranker_cli.run}
    if args.command in jobs:
        quiet_logging()
        return run_command("search-api", lambda: jobs[args.command](args, ApiSettings.from_env()))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("elastic_transport", "faiss.loader", "sentence_transformers"):  # a line per request
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = ApiSettings.from_env()
    except ConfigError as exc:
        print(f"search-api: error: {exc}", file=sys.stderr)
        return USAGE
    if any(n is not None and n < 1 for n in (args.workers, args.threads)):
        print("search-api: error: --workers and --threads must be at least 1", file=sys.stderr)
        return USAGE
    from search_api.http.serve import ServeOptions, serve

    try:
        return serve(settings, ServeOptions(host=args.host, port=args.port, server=args.server,
                                            workers=args.workers, threads=args.threads))
    except ConfigError as exc:
        print(f"search-api: error: {exc}", file=sys.stderr)
        return USAGE


def _check_synonyms(path: Path) -> int:
    from search_api.synonyms.rules import read_file

    print(f"{path}: {len(read_file(path))} rules")
    return 0


def _retention(args: argparse.Namespace) -> int:
    quiet_logging()
    return run_command("search-api", lambda: _drop_old_events(args))


def _drop_old_events(args: argparse.Namespace) -> int:
    from indexer.index_format import make_client
    from search_api.core.daily import drop_older_than as drop_days
    from search_api.personal.event_store import drop_older_than

    settings = ApiSettings.from_env()
    days = settings.events_retention_days if args.days is None else args.days
    if days < 1:
        raise ConfigError("--days must be at least 1")
    es = make_client(settings)
    try:
        dropped = drop_older_than(es, settings, days, dry_run=args.dry_run)
        logs = drop_days(es, settings.queries_alias, days, "query log", dry_run=args.dry_run)
    finally:
        es.close()
    verb = "would drop" if args.dry_run else "dropped"
    print(f"{verb} {len(dropped)} events indices older than {days} days"
          + (f": {', '.join(dropped)}" if dropped else ""))
    print(f"{verb} {len(logs)} query-log indices older than {days} days" + (f": {', '.join(logs)}" if logs else ""))
    return 0


def _audit(args: argparse.Namespace) -> int:
    from search_api.brands import audit_cli

    quiet_logging()
    return run_command("search-api", lambda: audit_cli.run(args, ApiSettings.from_env()))


if __name__ == "__main__":
    sys.exit(main())

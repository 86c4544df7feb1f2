"""`search-api analytics`: the same report as `GET /analytics`, printed as text or JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from indexer.index_format import ConfigError, make_client
from search_api.analytics.judgments import click_judgments
from search_api.analytics.reports import Window, report
from search_api.core.settings import ApiSettings


def add_parser(sub: Any) -> None:
    """Register the `analytics` subcommand."""
    parser = sub.add_parser("analytics", help="search analytics over the last --days (query log + clicks)")
    parser.add_argument("--days", type=int, default=7, help="the last N UTC days (default 7)")
    parser.add_argument("--lang", default=None, help="only queries in this language (zh, en, ...)")
    parser.add_argument("--brand-keyword", default=None, help="only queries that hit this brand keyword")
    parser.add_argument("--top", type=int, default=20, help="rows of each top list (default 20)")
    parser.add_argument("--json", action="store_true", help="print the JSON answer of GET /analytics")
    judged = sub.add_parser("judgments", help="graded judgments from the query log's clicks (position-bias corrected)")
    judged.add_argument("--days", type=int, default=30, help="the last N days of the log (default 30)")
    judged.add_argument("--min-impressions", type=int, default=5,
                        help="impressions a product needs for a query to be judged (default 5)")
    judged.add_argument("--out", type=Path, required=True, help="where to write the judgments (JSON)")


def _check_days(days: int, settings: ApiSettings) -> None:
    if not 1 <= days <= settings.events_retention_days:
        raise ConfigError(f"--days must be between 1 and the {settings.events_retention_days}-day retention")


def run(args: argparse.Namespace, settings: ApiSettings) -> int:
    """Print the report.

    Raises:
        ConfigError: a bad argument (exit 2 with one line).
        EngineError: Elasticsearch failed (exit 1).

    """
    _check_days(args.days, settings)
    if not 1 <= args.top <= 200:
        raise ConfigError("--top must be between 1 and 200")
    es = make_client(settings)
    try:
        out = report(es, settings, Window(days=args.days, lang=args.lang, brand_keyword=args.brand_keyword,
                                          top=args.top))
    finally:
        es.close()
    print(json.dumps(out, ensure_ascii=False, indent=2) if args.json else text(out))
    return 0


def run_judgments(args: argparse.Namespace, settings: ApiSettings) -> int:
    """Write click-derived judgments (ESCI format) for `search-api eval`.

    Raises:
        ConfigError: a bad argument (exit 2 with one line).
        EngineError: Elasticsearch failed (exit 1).

    """
    _check_days(args.days, settings)
    if args.min_impressions < 1:
        raise ConfigError("--min-impressions must be at least 1")
    es = make_client(settings)
    try:
        rows = click_judgments(es, settings, days=args.days, min_impressions=args.min_impressions)
    finally:
        es.close()
    args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(rows)} judged queries, {sum(len(r['ratings']) for r in rows)} judgments → {args.out}")
    return 0


def text(out: dict[str, Any]) -> str:
    """The report for a terminal."""
    lines = [f"{out['searches']} searches, {out['clicks']} clicks, MRR {out['mrr']:.3f}, "
             f"{out['share_personalised']:.0%} personalised ({out['window']['days']} days)"]
    for title, rows in (("top queries", out["top_queries"]), ("zero-result", out["zero_result"]),
                        ("relaxed", out["relaxed"])):
        lines.append(f"{title}:")
        lines += [f"  {r['count']:6d}  {r['query']}" + (f"  ctr {r['ctr']:.2f}" if "ctr" in r else "") for r in rows]
    lines.append("CTR by position: " + "  ".join(f"{r['position']}:{r['ctr']:.2f}" for r in out["ctr_by_position"]))
    return "\n".join(lines)

"""`search-api audit`: batch audits from a CSV of brand,keyword pairs and a personas file.

Runs in this process through the same `answer()` as the HTTP service (same settings, same
index), with a progress bar; stores the run in Elasticsearch like `POST /audits` does, and
writes `<id>.json`, `<id>.csv` and `<id>.html` (deltas against `--base` when given).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from tqdm import tqdm

from indexer.index_format import ConfigError
from search_api.core.settings import ApiSettings


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the `audit` subcommand."""
    audit = sub.add_parser("audit", help="run a brand-keyword ranking audit (CSV of brand,keyword pairs)")
    audit.add_argument("pairs", type=Path, help="CSV with columns brand,keyword (header row)")
    audit.add_argument("--personas", type=Path,
                       help="JSON list of personas ({label}, {label,user_id} or {label,history}); default anonymous")
    audit.add_argument("--top-k", type=int, default=50, help="results examined per cell (default 50)")
    audit.add_argument("--name", default="", help="a label for the run")
    audit.add_argument("--base", help="an earlier run id: the report highlights the deltas against it")
    audit.add_argument("--out-dir", type=Path, default=Path("data/audits"), help="where to write the exports")
    audit.add_argument("--no-progress", action="store_true")


def _read_pairs(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"brand", "keyword"} <= set(reader.fieldnames):
                raise ConfigError(f"{path}: needs a header with columns brand,keyword")
            return [{"brand": row["brand"], "keyword": row["keyword"]} for row in reader]
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def run(args: argparse.Namespace, settings: ApiSettings) -> int:
    """Execute the subcommand; errors propagate to the CLI's exit-code mapping."""
    from search_api.brands import audit_report, audit_runs, audit_store, audits
    from search_api.core.errors import ApiError
    from search_api.retrieval.runtime import Runtime

    body: dict[str, object] = {"pairs": _read_pairs(args.pairs), "top_k": args.top_k, "name": args.name}
    if args.personas:
        try:
            body["personas"] = json.loads(args.personas.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read personas from {args.personas}: {exc}") from exc
    rt = Runtime(settings)
    try:
        spec = audit_runs.parse(rt, body)
    except ApiError as exc:
        raise ConfigError(f"{exc.field}: {exc}") from exc
    base = audit_store.get(rt.es, settings, args.base) if args.base else None
    if args.base and base is None:
        raise ConfigError(f"--base: no audit {args.base!r}")
    run_ = audits.new_run(spec)
    with tqdm(total=spec.cells, unit="cell", desc="auditing",
              disable=args.no_progress or not sys.stderr.isatty()) as bar:
        audits.run(rt, run_, progress=bar.update)
    document = run_.document()
    audit_store.save(rt.es, settings, document)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stem = args.out_dir / run_.id
    stem.with_suffix(".json").write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    stem.with_suffix(".csv").write_text(audit_report.to_csv(document), encoding="utf-8")
    stem.with_suffix(".html").write_text(audit_report.to_html(document, base), encoding="utf-8")
    rate = len(run_.cells) / run_.seconds if run_.seconds else 0.0
    print(f"audit {run_.id}: {len(run_.cells)} of {spec.cells} cells, {run_.status}, {run_.seconds:.1f} s "
          f"({rate:.1f} cells/s; {run_.search_seconds / max(run_.seconds, 1e-9):.0%} in search)")
    print(f"exports        {stem}.json, .csv, .html")
    if run_.status != "done":
        print(f"search-api: error: audit failed: {run_.error}", file=sys.stderr)
        return 1
    return 0

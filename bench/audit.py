"""Audit throughput: 100 brands × 20 keywords × 3 personas (6,000 cells) on the 100k sample.

    .venv/bin/python bench/audit.py [--prefix bench] [--brands 100] [--keywords 20] [--check 0.01]

Needs the build of bench/indexing.py (same prefix) and ES_URL. Brands are the sample's most
stocked brands, keywords the first noun of 20 leaf categories (Chinese, as shoppers type
them), personas anonymous plus two inline viewing histories (pillows, earbuds). Prints cells/s
and the share of wall time spent outside the search path (`answer()`, the function /search
calls), then re-runs a random `--check` share of the cells as direct searches and counts
disagreements.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.sample.data import LEAVES  # noqa: E402
from search_api.brands import audit_spec, audits  # noqa: E402
from search_api.brands.answer import answer  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.personal.events import parse_history  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--data", type=Path, default=REPO / "data" / "bench" / "sample-100000")
    parser.add_argument("--brands", type=int, default=100)
    parser.add_argument("--keywords", type=int, default=20)
    parser.add_argument("--check", type=float, default=0.01)
    args = parser.parse_args()
    settings = ApiSettings.from_env().with_(prefix=args.prefix)
    rt = Runtime(settings)
    if rt.replica.current() is None:
        raise SystemExit(f"no live version under prefix {args.prefix!r}: run bench/indexing.py first")
    rows = [json.loads(line) for line in (args.data / "products.jsonl").open(encoding="utf-8")]
    brands = [b for b, _ in Counter(r["brand"] for r in rows).most_common(args.brands)]
    keywords = [leaf[2][0][0] for leaf in LEAVES[:args.keywords]]
    now = datetime.now(UTC)

    def history(leaf: str) -> tuple[object, ...]:
        ids = [r["id"] for r in rows if r["category"][-1] == leaf][:20]
        return tuple(parse_history([{"product_id": i, "action": "click"} for i in ids], now=now, settings=settings))

    personas = (audit_spec.Persona("anonymous"), audit_spec.Persona("pillow fan", history=history("抱枕")),
                audit_spec.Persona("audio fan", history=history("蓝牙耳机")))
    spec = audit_spec.AuditSpec(tuple((b, k) for b in brands for k in keywords), personas, top_k=50, name="bench")
    rt.embedder.embed_query("warm up")
    run = audits.run(rt, audits.new_run(spec))
    if run.status != "done":
        raise SystemExit(f"audit failed: {run.error}")
    outside = 1 - run.search_seconds / run.seconds
    print(f"cells               {len(run.cells)} ({len(brands)} brands × {len(keywords)} keywords × "
          f"{len(personas)} personas, top {spec.top_k})")
    print(f"throughput          {len(run.cells) / run.seconds:8.1f} cells/s  ({run.seconds:.1f} s)")
    print(f"outside search path {outside:8.1%}  (bar ≤ 20%)")
    rng = random.Random(5)
    sample = rng.sample(range(len(run.cells)), max(1, int(len(run.cells) * args.check)))
    by_label = {p.label: p for p in personas}
    mismatches = 0
    for i in sample:
        cell = run.cells[i]
        direct = answer(rt, audits.cell_request(cell["keyword"], by_label[cell["persona"]], spec.top_k))
        if audits.measure(direct, cell["brand"], spec.top_k)["ids"] != cell["ids"]:
            mismatches += 1
    print(f"spot check          {len(sample) - mismatches}/{len(sample)} cells equal to a direct search")
    zones = Counter(c["zone_won"] for c in run.cells)
    print(f"zones won           {zones[True]} cells (brand shown in its own zone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

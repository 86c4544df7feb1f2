"""`search-api eval JUDGMENTS`: score the live index on a judgment file, optionally two configurations.

The same `evaluation.evaluate` bench/relevance.py uses. `--compare key=value …` scores a second
configuration (the settings with those fields replaced, e.g. `personal_alpha=0.3`,
`semantic_floor=0.35`) on the same queries and reports the nDCG@10 difference with a paired
t-test and a Wilcoxon signed-rank test over the per-query scores (scipy).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from indexer.index_format import ConfigError
from search_api.core.settings import ApiSettings
from search_api.retrieval.evaluation import Scores, evaluate, load_judgments
from search_api.retrieval.params import Mode
from search_api.retrieval.runtime import Runtime


def add_parser(sub: Any) -> None:
    """Register the `eval` subcommand."""
    parser = sub.add_parser("eval", help="nDCG@10, MRR, Recall@100 of the live index on a judgment file")
    parser.add_argument("judgments", type=Path, help='JSON [{"query", "ratings": {id: gain}}] (ESCI or click-derived)')
    parser.add_argument("--modes", default="hybrid", help="comma list of keyword, semantic, hybrid (default hybrid)")
    parser.add_argument("--compare", nargs="+", default=None, metavar="KEY=VALUE",
                        help="a second configuration: settings fields to replace")


def overrides(pairs: list[str], settings: ApiSettings) -> ApiSettings:
    """The settings with `key=value` pairs applied (validated like the environment).

    Raises:
        ConfigError: a pair that is not key=value, an unknown field, or a bad value.

    """
    changes: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in type(settings).model_fields:
            raise ConfigError(f"--compare takes settings fields as key=value; got {pair!r}")
        changes[key] = value
    try:
        return settings.with_(**changes)  # type: ignore[no-any-return]
    except ValueError as exc:
        raise ConfigError(f"--compare: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}") from None  # type: ignore[attr-defined]


def paired(base: Scores, other: Scores) -> str:
    """Mean nDCG@10 difference and the paired tests' p-values."""
    from scipy import stats

    diffs = [b - a for a, b in zip(base.per_query, other.per_query, strict=True)]
    if not any(diffs):
        return "Δ nDCG@10 +0.0000 (identical per query)"
    t_p = stats.ttest_rel(other.per_query, base.per_query).pvalue
    w_p = stats.wilcoxon(diffs).pvalue
    mean = sum(diffs) / len(diffs)
    return f"Δ nDCG@10 {mean:+.4f}  paired t p={t_p:.4g}  Wilcoxon p={w_p:.4g}" + (
        "" if math.isfinite(t_p) else " (degenerate)")


def run(args: argparse.Namespace, settings: ApiSettings) -> int:
    """Print the scores (and the comparison).

    Raises:
        ConfigError: bad arguments or judgment file (exit 2, one line).
        EngineError: Elasticsearch failed (exit 1).

    """
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in {str(x) for x in Mode}]
    if bad or not modes:
        raise ConfigError(f"--modes takes keyword, semantic, hybrid; got {args.modes!r}")
    judged = load_judgments(args.judgments)
    other = overrides(args.compare, settings) if args.compare else None
    base_rt = Runtime(settings)
    print(f"{len(judged)} judged queries from {args.judgments}")
    for mode in modes:
        base = evaluate(base_rt, judged, mode)
        print(f"{mode:<9} nDCG@10 {base.ndcg10:.4f}  R@100 {base.recall100:.4f}  MRR {base.mrr:.4f}")
        if other is not None:
            changed = evaluate(Runtime(other, embedder=base_rt.embedder, es=base_rt.es), judged, mode)
            print(f"{'':<9} nDCG@10 {changed.ndcg10:.4f}  R@100 {changed.recall100:.4f}  MRR {changed.mrr:.4f}"
                  f"  ({' '.join(args.compare)})  {paired(base, changed)}")
    return 0

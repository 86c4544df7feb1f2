"""Typo tolerance on ESCI dev: nDCG@10 of queries with one random edit per long word vs clean ones.

    .venv/bin/python bench/typos.py [--prefix esci-eval] [--seed 13] [--modes keyword,hybrid]

Each word of at least 5 letters gets one random edit (delete, insert, substitute or swap two
neighbours, at a seeded random position, the first letter included unless `--keep-first`). On the live ESCI build of
`--prefix` (bench/relevance.py leaves one) it prints, per mode, nDCG@10 of the clean queries, of
the typo'd ones, their ratio (target ≥ 0.9 in hybrid mode) and the share of typo'd queries the
keyword leg corrected. Needs ES_URL.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.embedding.encoders import load_embedder  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.retrieval import hybrid  # noqa: E402
from search_api.retrieval.evaluation import Judged, evaluate, load_judgments  # noqa: E402
from search_api.retrieval.params import parse_search  # noqa: E402
from search_api.retrieval.runtime import Runtime  # noqa: E402

DEFAULT_ESCI = REPO.parent / "shared" / "data" / "esci"
MIN_LETTERS = 5


def misspell(word: str, rng: random.Random, first: int = 0) -> str:
    """One random edit of `word` at or after position `first`: delete, insert, substitute, or swap."""
    i = rng.randrange(first, len(word))
    kind = rng.choice(("delete", "insert", "substitute", "swap"))
    letter = rng.choice(string.ascii_lowercase)
    if kind == "delete":
        return word[:i] + word[i + 1:]
    if kind == "insert":
        return word[:i] + letter + word[i:]
    if kind == "substitute":
        return word[:i] + letter + word[i + 1:]
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def typo_query(query: str, rng: random.Random, first: int = 0) -> str:
    """The query with one edit in each alphabetic word of at least MIN_LETTERS letters."""
    return " ".join(misspell(w, rng, first) if w.isalpha() and len(w) >= MIN_LETTERS else w for w in query.split())


def corrected_share(rt: Runtime, judged: list[Judged]) -> float:
    """Share of the queries whose answer carries `meta.corrected`."""
    hits = sum(bool(hybrid.search(rt, parse_search({"q": j.query, "mode": "keyword", "size": 10}))["meta"]["corrected"])
               for j in judged)
    return hits / max(len(judged), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default="esci-eval")
    parser.add_argument("--data", type=Path, default=DEFAULT_ESCI)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--modes", default="keyword,semantic,hybrid")
    parser.add_argument("--keep-first", action="store_true",
                        help="never edit a word's first letter (typo tolerance keeps it exact by design)")
    args = parser.parse_args()
    settings = ApiSettings.from_env().with_(prefix=args.prefix)
    rt = Runtime(settings, embedder=load_embedder(settings))
    clean = load_judgments(args.data / "judgments-dev.json")
    rng = random.Random(args.seed)
    typod = [replace(j, query=typo_query(j.query, rng, 1 if args.keep_first else 0)) for j in clean]
    changed = sum(a.query != b.query for a, b in zip(clean, typod, strict=True))
    print(f"typos: {len(clean)} ESCI dev queries, {changed} with edits (seed {args.seed}); "
          f"corrected: {corrected_share(rt, typod):.0%} of the typo'd, {corrected_share(rt, clean):.0%} of the clean")
    print(f"{'mode':<10} {'clean':>8} {'typo':>8} {'ratio':>7}")
    for mode in args.modes.split(","):
        a, b = evaluate(rt, clean, mode).ndcg10, evaluate(rt, typod, mode).ndcg10
        print(f"{mode:<10} {a:8.4f} {b:8.4f} {b / a if a else 0:7.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`GET /suggest` latency at catalog scale: p50 and p99 over keystroke prefixes, per kind of prefix.

    PYTHONPATH=. .venv/bin/python bench/suggest.py [--prefix suggestbench] [--rounds 3]

Build the catalog first under its own prefix, e.g.
    STORESEARCH_PREFIX=suggestbench indexer build data/sample100k/products.jsonl --brand-keywords
    data/sample100k/brand_keywords.jsonl
Prefixes are what shoppers send while typing the sample vocabulary (nouns, categories, brands,
attribute values): Chinese characters (1-3), pinyin (full, spaced, initials), English word
prefixes, and English prefixes with one transposition after the third letter. Each request goes
through the Flask app in-process (routing, validation, Elasticsearch, JSON), not over a socket.
Also printed: this process's CPU per request (what the API itself costs, Elasticsearch aside) and
the load average, since Elasticsearch shares the machine's cores with everything else running.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

from pypinyin import lazy_pinyin

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.sample.data import ADJECTIVES, BRAND_SYLLABLES, LEAVES  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from search_api.http.app import create_app  # noqa: E402


def vocabulary() -> tuple[list[str], list[str]]:
    """Chinese and English words of the sample marketplace."""
    zh, en = [], []
    for path, leaf_en, nouns, attributes, _price in LEAVES:
        zh += [*path, *(n for n, _ in nouns)]
        en += [leaf_en, *(e for _, e in nouns)]
        for values in attributes.values():
            zh += [v for v, _ in values]
            en += [e for _, e in values if len(e) > 2]
    zh += [a + b for (a, _), (b, _) in zip(BRAND_SYLLABLES, BRAND_SYLLABLES[1:], strict=False)]
    en += [e for _, e in ADJECTIVES]
    return sorted(set(zh)), sorted(set(en))


def typo(word: str, rng: random.Random) -> str:
    """One transposition after the third character (what the suggester tolerates)."""
    i = rng.randrange(3, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def prefixes(n: int, seed: int = 13) -> dict[str, list[str]]:
    """`n` prefixes of each kind, cut where a shopper might pause typing."""
    rng = random.Random(seed)
    zh, en = vocabulary()
    cut = lambda text, low: text[:rng.randint(min(low, len(text)), len(text))]  # noqa: E731
    kinds: dict[str, list[str]] = {"chinese": [], "pinyin": [], "pinyin spaced": [], "initials": [],
                                   "english": [], "english typo": []}
    for _ in range(n):
        word = rng.choice(zh)
        syllables = lazy_pinyin(word)
        kinds["chinese"].append(cut(word, 1))
        kinds["pinyin"].append(cut("".join(syllables), 2))
        kinds["pinyin spaced"].append(cut(" ".join(syllables), 4))
        kinds["initials"].append(cut("".join(s[0] for s in syllables), 2))
        english = rng.choice(en)
        kinds["english"].append(cut(english, 2))
        long = [w for w in en if len(w) >= 6]
        kinds["english typo"].append(cut(typo(rng.choice(long), rng), 6))
    return kinds


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default="suggestbench")
    parser.add_argument("--per-kind", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=8)
    args = parser.parse_args()
    settings = ApiSettings.from_env().with_(prefix=args.prefix, rate_suggest="off", rate_suggest_keyed="off")
    client = create_app(settings).test_client()
    kinds = prefixes(args.per_kind)
    work = [(kind, q) for kind, qs in kinds.items() for q in qs]
    empty = 0
    for _kind, q in work[:: max(1, len(work) // 100)]:  # warm-up: connections, ES caches
        got = client.get("/suggest", query_string={"q": q, "size": args.size})
        if got.status_code != 200:
            print(f"suggest: {got.status_code} {got.get_json()}", file=sys.stderr)
            return 2
    times: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: list[float] = []
    rng = random.Random(5)
    load_before = os.getloadavg()[0]
    for _ in range(args.rounds):
        rng.shuffle(work)
        for kind, q in work:
            started, cpu_started = time.perf_counter(), time.process_time()
            body = client.get("/suggest", query_string={"q": q, "size": args.size}).get_json()
            times[kind].append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
            empty += not body["suggestions"]
    every = [t for values in times.values() for t in values]
    count = client.application.extensions["storesearch"].es.count(index=settings.suggestions_alias)["count"]
    print(f"{settings.suggestions_alias}: {count} suggestions; {len(every)} requests, size={args.size}, "
          f"{empty / len(every):.1%} answered empty")
    print(f"{'prefix kind':<14} {'n':>5} {'p50 ms':>7} {'p99 ms':>7} {'mean':>7}")
    for kind, values in (*times.items(), ("all", every)):
        print(f"{kind:<14} {len(values):5d} {pct(values, 50):7.2f} {pct(values, 99):7.2f} "
              f"{statistics.fmean(values):7.2f}")
    print(f"API process CPU per request p50 {pct(cpu, 50):.2f} ms, mean {statistics.fmean(cpu):.2f} ms; "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Brand-keyword aliases as equivalences: `{"keyword": "棉语", "aliases": ["Mianyu"]}` → 棉语 ⇔ Mianyu.

Read from the live `<prefix>-brand-keywords` index (every keyword, whatever its activity window:
the window says when a brand owns a keyword for its zone, not whether two spellings name the same
thing). The index changes only with a build, so the store re-reads it when the live version does.
"""

from __future__ import annotations

import logging

from elasticsearch import Elasticsearch, NotFoundError

from indexer.index_format import engine_errors
from search_api.synonyms.rules import MAX_TERM_CHARS, Rule, term_key

log = logging.getLogger(__name__)

MAX_KEYWORDS = 10_000
"""Brand keywords read per version (one search; Elasticsearch's default result window)."""


def alias_rule(doc_id: str, keyword: str, aliases: list[str] | str) -> Rule | None:
    """The equivalence of a keyword and its aliases (None when they add no other words)."""
    listed = [aliases] if isinstance(aliases, str) else aliases
    terms = [" ".join(t.split()) for t in [keyword, *listed] if isinstance(t, str)]
    terms = [t for t in dict.fromkeys(terms) if t and len(t) <= MAX_TERM_CHARS and term_key(t)]
    if len({term_key(t) for t in terms}) < 2:
        return None
    return Rule(tuple(terms), tuple(terms), f"brand-keyword:{doc_id}")


def brand_rules(es: Elasticsearch, alias: str) -> tuple[Rule, ...]:
    """One equivalence per brand keyword with aliases (none without a brand-keyword index).

    Raises:
        EngineError: Elasticsearch failed.

    """
    with engine_errors("reading brand-keyword aliases"):
        try:
            response = es.search(index=alias, size=MAX_KEYWORDS, query={"exists": {"field": "aliases"}},
                                 _source=["id", "keyword", "aliases"], sort=["id"], track_total_hits=True)
        except NotFoundError:
            return ()
    hits = response["hits"]["hits"]
    if response["hits"]["total"]["value"] > len(hits):
        log.warning("brand keywords with aliases: only the first %d of %d are synonyms", len(hits),
                    response["hits"]["total"]["value"])
    rules = (alias_rule(h["_source"].get("id") or h["_id"], h["_source"].get("keyword") or "",
                        h["_source"].get("aliases") or []) for h in hits)
    return tuple(r for r in rules if r is not None)

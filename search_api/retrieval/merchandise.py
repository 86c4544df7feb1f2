"""The merchandising step of a search: the rules the query matches, applied to the fused ranking before paging.

Organic relevance is untouched when no rule matches: the ranking passes through as it came (same
ids, same scores). Hides apply to every search, brand zones included; a brand zone's own search
puts its keyword's landing products first, as a pin would. Pins, boosts and buries
apply to relevance-ordered organic results only (a price sort is the shopper's order, not ours);
they count positions in what the shopper sees, so the pinned products and the head of the
candidates the plan can touch (its deepest place, plus slack) go through the request's filters
first, in one doc-values call (`passing`): a product that is off-shelf, deleted or
filtered out is never pinned into view. That call is the whole cost of a positional rule;
matching itself is a few dict lookups (`rules.index`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch

from indexer.index_format import IndexerError, engine_errors
from search_api.core.errors import SearchUnavailable
from search_api.retrieval.filters import filter_clauses, gone_clause
from search_api.retrieval.fusion import Ranked
from search_api.retrieval.params import SearchRequest, Sort
from search_api.retrieval.runtime import Runtime
from search_api.rules import actions
from search_api.rules.index import Rule
from search_api.rules.model import MAX_POSITION


@dataclass(frozen=True)
class Applied:
    """The rules a search matched, and the rule that pinned or moved each product."""

    rules: tuple[Rule, ...] = ()
    placed: Mapping[str, Rule] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()

    def widen(self, query: dict[str, Any] | None) -> dict[str, Any] | None:
        """The eligible set's query with the pinned products in and the hidden ones out (as is without rules).

        Paging counts, facets and pages the eligible set: a pinned product the legs did not find
        must be in it, and a hidden one must not come back beyond the fused candidates.
        """
        pinned = sorted(p for p, rule in self.placed.items() if rule.kind == "pin")
        if not pinned and not self.hidden:
            return query
        should = ([query] if query is not None else []) + ([{"ids": {"values": pinned}}] if pinned else [])
        if not should:
            return None
        return {"bool": {"should": should, "minimum_should_match": 1,
                         "must_not": [{"ids": {"values": sorted(self.hidden)}}] if self.hidden else []}}

    def describe(self) -> list[dict[str, str]]:
        """`meta.rules`: the rules in effect for this search, winner first."""
        return [{"id": rule.id, "kind": rule.kind} for rule in self.rules]

    def explain(self, results: list[dict[str, Any]]) -> None:
        """Add `explain.rule` to each result a rule placed (results carrying `explain` only)."""
        for item in results:
            rule = self.placed.get(item["id"])
            if rule is not None and "explain" in item:
                item["explain"]["rule"] = {"id": rule.id, "kind": rule.kind}


NOTHING = Applied()


def landing_rule(q: str, products: tuple[str, ...]) -> Rule:
    """A brand keyword's landing products as a pin at the top of its zone (they come first, filters allowing)."""
    return Rule(id="brand-zone-landing", kind="pin", text=q, words=(), match="exact", products=products,
                priority=2**31, position=1)


def apply_rules(rt: Runtime, index: str, req: SearchRequest, ranked: Ranked, *,
                zone: bool = False, landing: tuple[str, ...] = ()) -> tuple[Ranked, Applied]:
    """The ranking with the matched rules applied (unchanged, the very list, when none matches).

    `zone`: a brand zone's search, where only hides apply, and its keyword's `landing` products
    come first.

    Raises:
        SearchUnavailable: the filter check of a positional rule failed.

    """
    matched = rt.rules.current().matching(req.q, datetime.now(UTC))
    if zone or req.sort != Sort.RELEVANCE:
        matched = [rule for rule in matched if rule.kind == "hide"]
    if not matched and not landing:
        return ranked, NOTHING
    plan = _plan(req, matched, landing)
    if not plan.positional:
        out, placed = actions.arrange(ranked, plan)
        return out, Applied(plan.rules, placed, frozenset(plan.hidden))
    shown, head = _shown(rt, index, req, ranked, plan)
    if landing:  # the landing products that can be shown, one after the other from the top
        plan = _plan(req, matched, tuple(p for p in landing if p in shown))
    out, placed = actions.arrange([item for item in ranked[:head] if item[0] in shown], plan, pinnable=shown)
    pinned = set(plan.pinned())
    out += [item for item in ranked[head:] if item[0] not in plan.hidden and item[0] not in pinned]
    return out, Applied(plan.rules, placed, frozenset(plan.hidden))


def passing(es: Elasticsearch, index: str, ids: list[str], req: SearchRequest) -> set[str]:
    """The ids that pass the request's filters (status included) and are not deleted (doc values only).

    Raises:
        EngineError: Elasticsearch failed.

    """
    with engine_errors("filtering candidates for rules"):
        hits = es.search(index=index, size=len(ids), stored_fields="_none_", docvalue_fields=["id"],
                         query={"bool": {"filter": [{"ids": {"values": ids}}, *filter_clauses(req)],
                                         "must_not": [gone_clause()]}})["hits"]["hits"]
    return {hit["fields"]["id"][0] for hit in hits}


HEAD_SLACK = 20
"""Candidates checked beyond the places a plan touches, for those the filters drop (the usual case: none)."""


def _shown(rt: Runtime, index: str, req: SearchRequest, ranked: Ranked, plan: actions.Plan) -> tuple[set[str], int]:
    """The pinned products and leading candidates that pass the filters, and how many candidates were checked.

    Only the head the plan can touch is checked (paging filters the rest, whose order the plan
    keeps); when the filters leave fewer than it needs, everything is.

    Raises:
        SearchUnavailable: Elasticsearch failed.

    """
    ids = [doc_id for doc_id, _ in ranked]
    need = plan.depth(ids)
    head = min(len(ids), need + need // 2 + HEAD_SLACK)
    try:
        shown = passing(rt.es, index, list(dict.fromkeys(ids[:head] + plan.pinned())), req)
        if head < len(ids) and sum(1 for doc_id in ids[:head] if doc_id in shown) < need:
            head = len(ids)
            shown = passing(rt.es, index, list(dict.fromkeys(ids + plan.pinned())), req)
    except IndexerError as exc:
        raise SearchUnavailable(f"could not filter candidates for rules: {exc}") from exc
    return shown, head


def _plan(req: SearchRequest, matched: list[Rule], landing: tuple[str, ...]) -> actions.Plan:
    return actions.plan([landing_rule(req.q, landing[:MAX_POSITION])] + matched if landing else matched)

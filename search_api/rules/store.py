"""Rules in Elasticsearch (`<prefix>-rules`): put, get, list, delete, and what API processes poll.

The index is created on first write from `mappings/rules.json` (server-core types). Writes wait
for a refresh, so a rule listed after its `PUT` is also the one processes load. A put is checked
against stored data before it is written: every product must be in the live index (a tombstone
is no product), and no other pin for the same analysed query may claim one of its positions in an
overlapping window (priority does not settle two pins at one position: the operator must).
The HTTP routes and the CLI both call `put`, so both refuse the same rules with the same field.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from indexer.index_format import engine_errors, ensure_index, mappings, tokens
from search_api.core.errors import InvalidParameter
from search_api.core.settings import ApiSettings
from search_api.rules.model import AnyRule, PinRule, stored

MAX_RULES = 10_000
"""Rules one prefix may hold: every API process keeps all of them in memory."""

Fingerprint = tuple[int, int]
"""(rule count, highest revision): any put raises the revision, any delete alone lowers the count."""


def rules_index(settings: ApiSettings) -> str:
    """Where the rules are kept (`<rules_prefix>-rules`, by default under the product prefix)."""
    return f"{settings.rules_prefix or settings.prefix}-rules"


def _ensure(es: Elasticsearch, settings: ApiSettings) -> str:
    index = rules_index(settings)
    ensure_index(es, index, mappings.load(settings.mappings_dir, "rules")["mappings"])
    return index


def known_products(es: Elasticsearch, settings: ApiSettings, ids: list[str]) -> set[str]:
    """The ids the live index holds as products (not tombstones).

    Raises:
        EngineError: Elasticsearch failed.

    """
    with engine_errors("checking rule products"):
        hits = es.search(index=settings.products_alias, size=len(ids), stored_fields="_none_",
                         docvalue_fields=["id"], query={"bool": {"filter": [{"terms": {"id": ids}}],
                                                                 "must_not": [{"term": {"status": "deleted"}}]}},
                         )["hits"]["hits"]
    return {hit["fields"]["id"][0] for hit in hits}


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _overlaps(a_from: datetime | None, a_to: datetime | None, b_from: datetime | None, b_to: datetime | None
              ) -> bool:
    """Whether two windows share an instant: each starts before the other ends (open ends unbounded)."""
    return (a_from is None or b_to is None or a_from < b_to) and (b_from is None or a_to is None or b_from < a_to)


def _pin_clash(es: Elasticsearch, index: str, rule_id: str, rule: PinRule) -> str | None:
    """The id of another pin for the same analysed query, window overlapping, on one of `rule`'s positions."""
    mine = set(range(rule.position, rule.position + len(rule.products)))
    with engine_errors("checking overlapping pins"):
        hits = es.search(index=index, size=MAX_RULES, query={"bool": {"filter": [
            {"term": {"kind": "pin"}}, {"term": {"query_key": " ".join(tokens(rule.query))}}]}},
            _source=["id", "position", "products", "active_from", "active_to"])["hits"]["hits"]
    for hit in hits:
        other = hit["_source"]
        theirs = set(range(other["position"], other["position"] + len(other["products"])))
        if other["id"] != rule_id and mine & theirs and _overlaps(
                _time(other.get("active_from")), _time(other.get("active_to")), rule.active_from, rule.active_to):
            return str(other["id"])
    return None


def check(es: Elasticsearch, settings: ApiSettings, rule_id: str, rule: AnyRule) -> None:
    """Refuse a rule the stored data contradicts.

    Raises:
        InvalidParameter: `products[i]` unknown to the live index; `position` taken by another pin.
        EngineError: Elasticsearch failed.

    """
    known = known_products(es, settings, list(rule.products))
    for i, product in enumerate(rule.products):
        if product not in known:
            raise InvalidParameter(f"products[{i}]: no product {product!r} in the live index", field=f"products[{i}]")
    if isinstance(rule, PinRule):
        clash = _pin_clash(es, _ensure(es, settings), rule_id, rule)
        if clash is not None:
            raise InvalidParameter(f"position: rule {clash!r} already pins a product at one of these positions "
                                   "for the same query in an overlapping window", field="position")


def put(es: Elasticsearch, settings: ApiSettings, rule_id: str, rule: AnyRule) -> tuple[dict[str, Any], bool]:
    """Check and store a rule; (its document, whether it is new).

    Raises:
        InvalidParameter: see `check`.
        EngineError: Elasticsearch failed.

    """
    check(es, settings, rule_id, rule)
    index = _ensure(es, settings)
    document = stored(rule_id, rule, updated=datetime.now(UTC), revision=time.time_ns() // 1000)
    with engine_errors(f"saving rule {rule_id}"):
        result = es.index(index=index, id=rule_id, document=document, refresh="wait_for")
    return document, result["result"] == "created"


def get(es: Elasticsearch, settings: ApiSettings, rule_id: str) -> dict[str, Any] | None:
    """A rule's document, or None."""
    with engine_errors(f"reading rule {rule_id}"):
        try:
            return dict(es.get(index=rules_index(settings), id=rule_id)["_source"])
        except NotFoundError:
            return None


def delete(es: Elasticsearch, settings: ApiSettings, rule_id: str) -> bool:
    """Delete a rule; False when there was none."""
    with engine_errors(f"deleting rule {rule_id}"):
        try:
            es.delete(index=rules_index(settings), id=rule_id, refresh="wait_for")
        except NotFoundError:
            return False
    return True


def listing(es: Elasticsearch, settings: ApiSettings) -> list[dict[str, Any]]:
    """Every rule's document, by id (none before the first put).

    Raises:
        EngineError: Elasticsearch failed.

    """
    with engine_errors("listing rules"):
        try:
            hits = es.search(index=rules_index(settings), size=MAX_RULES, sort=[{"id": "asc"}])["hits"]["hits"]
        except NotFoundError:
            return []
    return [hit["_source"] for hit in hits]


def fingerprint(es: Elasticsearch, settings: ApiSettings) -> Fingerprint:
    """What changes whenever the rule set does: one tiny search instead of reading every rule.

    Raises:
        EngineError: Elasticsearch failed.

    """
    with engine_errors("checking rules"):
        try:
            answer = es.search(index=rules_index(settings), size=0, track_total_hits=True,
                               aggs={"revision": {"max": {"field": "revision"}}})
        except NotFoundError:
            return (0, 0)
    return (answer["hits"]["total"]["value"], int(answer["aggregations"]["revision"]["value"] or 0))

"""Response models of the HTTP contract.

Routes build plain dicts (the hot path pays no model construction); these models only describe
those answers for the OpenAPI document, and `tests/api/test_contract.py` checks real answers
against them. Request models live beside their validation (`SearchParams`, `ViewingEvent`,
`AuditRequest`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    """Answers may gain fields; clients must ignore what they do not know."""

    model_config = ConfigDict(extra="allow")


class ErrorDetail(_Open):
    """What went wrong, in a stable code and a sentence; `field` names the offending input."""

    code: str = Field(description="Stable machine-readable code, e.g. `invalid_parameter`, `unauthorized`.")
    message: str = Field(description="A sentence for people; never engine internals.")
    field: str | None = Field(None, description="The request field at fault (`size`, `events[3].ts`, `body`).")


class ErrorBody(BaseModel):
    """Every error answer (4xx and 5xx) has this body."""

    error: ErrorDetail


class Product(_Open):
    """One result: the displayed fields of a product."""

    id: str
    score: float = Field(description="Fused score (RRF, or the single leg's native score).")
    title: str | None = None
    title_en: str | None = None
    brand: str | None = None
    category: list[str] | None = Field(None, description="Category path, root first.")
    price: float | None = None
    sales: int | None = None
    rating: float | None = None
    image: str | None = None
    shop: str | None = None
    explain: dict[str, Any] | None = Field(None, description="Per-leg rank and score (with `explain=true`).")


class BrandZone(_Open):
    """The brand that owns the query's brand keyword, and its products (never mixed into results)."""

    brand: str
    brand_id: str
    keyword: str
    matched: str
    match: str
    priority: int
    products: list[Product]


class SearchMeta(_Open):
    """How the answer was made."""

    total: int = Field(description="Matching products (keyword matches; in hybrid mode at least the fused count).")
    took_ms: float
    index_version: str = Field(description="The concrete index version that answered.")
    mode: str
    legs: dict[str, str] = Field(
        description="Status of each leg: `ok`, `ok (personalised)`, `no history`, `skipped: …`, `failed`, "
                    "or `failed: timeout` (over its time budget).")
    personalised: bool
    degraded: bool = Field(description="True when a leg failed and the others answered.")
    relaxed: Literal["most_terms", "any_term", "semantic"] | None = Field(
        None, description="Set when too few products matched all the query's terms: `most_terms` (keyword hits "
                          "match most of them), `any_term` (at least one), or `semantic` (no keyword match; the "
                          "results are the semantic leg's, above its relevance floor). Null for a strict match "
                          "or an empty answer.")
    corrected: str | None = Field(
        None, description="The query with misspelled words corrected from the index vocabulary, when the "
                          "keyword leg searched it alongside the query as typed (\"did you mean\").")
    profile: dict[str, Any] | None = Field(
        None, description="The profile used (explain, with a key allowed to read it).")
    rules: list[dict[str, str]] = Field(
        default_factory=list, description="The merchandising rules this search matched, `{id, kind}`, winner "
                                          "first; `explain.rule` names the one that pinned or moved a result.")


class SearchAnswer(BaseModel):
    """A page of results, the brand zone beside them, and meta."""

    results: list[Product]
    brand_zone: BrandZone | None
    meta: SearchMeta


class EventsAnswer(BaseModel):
    """What Elasticsearch acknowledged of a batch (207 when some items were refused)."""

    accepted: int
    rejected: list[dict[str, Any]] = Field(description="Refused items: `{index, field, message}`.")
    unknown_products: int = Field(description="Stored events about products the catalog does not hold.")


class ProfileAnswer(_Open):
    """A shopper's profile in readable form."""

    user_id: str
    events: int
    events_in_window: int
    known_products: int
    last_event: str | None
    top_brands: list[dict[str, Any]]
    top_categories: list[dict[str, Any]]
    has_vector: bool
    window_days: float
    max_events: int
    half_life_hours: float


class Health(_Open):
    """Liveness and what is loaded."""

    status: str = Field(description="`ok` or `degraded`.")
    alias: str
    model: str
    model_loaded: bool
    pid: int = Field(description="The process that answered (a server worker: each keeps its own replica).")


class Ready(_Open):
    """Readiness: a live index and its vectors are loaded."""

    ready: bool
    index_version: str | None = None
    reason: str | None = None


class AuditStarted(BaseModel):
    """An audit accepted and running in the background."""

    id: str
    status: str
    cells: int
    href: str


class AuditList(BaseModel):
    """The newest audit runs, without their cells."""

    audits: list[dict[str, Any]]


class AuditComparison(BaseModel):
    """Per-cell rank deltas between two runs."""

    base: str
    head: str
    cells: list[dict[str, Any]]


class AuditRun(_Open):
    """A run: its spec, progress, and cells (rank of the brand per keyword and persona)."""

    id: str
    status: str


class StoredRule(_Open):
    """A merchandising rule as stored: the body that was put, its id and when it changed."""

    id: str
    kind: Literal["pin", "hide", "boost", "bury"]
    query: str = Field(description="The rule's query, normalised.")
    match: Literal["exact", "phrase", "contains"]
    products: list[str]
    priority: int
    position: int | None = Field(None, description="Pins: the 1-based place of the first product.")
    by: int | None = Field(None, description="Boosts and buries: places moved.")
    active_from: str | None = None
    active_to: str | None = None
    note: str | None = None
    updated: str
    revision: int


class RuleList(BaseModel):
    """Every rule, by id."""

    rules: list[StoredRule]


class RuleDeleted(BaseModel):
    """A rule deleted."""

    id: str
    deleted: bool

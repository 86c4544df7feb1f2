"""Response models of the HTTP contract.

Routes build plain dicts (the hot path pays no model construction); these models only describe
those answers for the OpenAPI document, and `tests/api/test_contract.py` checks real answers
against them. Request models live beside their validation (`SearchParams`, `ViewingEvent`,
`AuditRequest`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from search_api.http.understood_schema import UnderstoodPart


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
    score: float = Field(description="Fused score (RRF, or the single leg's native score); 0 for a product past "
                                     "the fused candidates (a deep page, a sort by a field).")
    title: str | None = None
    title_en: str | None = None
    brand: str | None = None
    category: list[str] | None = Field(None, description="Category path, root first.")
    price: float | None = None
    sales: int | None = None
    rating: float | None = None
    image: str | None = None
    shop: str | None = None
    color: str | None = None
    status: str | None = Field(None, description="`on_sale`, or `sold_out` / `off_shelf` when asked for.")
    updated_at: str | None = None
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


class SynonymFired(BaseModel):
    """A synonym rule that fired on the query."""

    matched: str = Field(description="The rule's term the query's words matched (as the rule writes it).")
    added: list[str] = Field(description="The terms it added to the keyword leg, scored below the typed words.")
    rule: str = Field(description="Where the rule is: `synonyms.txt:12` (file:line) or `brand-keyword:<id>`.")


class SearchMeta(_Open):
    """How the answer was made."""

    total: int = Field(description="Exact size of the eligible set after the filters: keyword matches at the "
                                   "answer's level ∪ semantic candidates above the floor, visible (see README).")
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
    query_id: str | None = Field(
        None, description="Identifies this answer in the query log; send it with click events (`POST /clicks`, "
                          "`POST /events`) so they are tied to the query and position.")
    corrected: str | None = Field(
        None, description="The query with misspelled words corrected from the index vocabulary, when the "
                          "keyword leg searched it alongside the query as typed (\"did you mean\").")
    profile: dict[str, Any] | None = Field(
        None, description="The profile used (explain, with a key allowed to read it).")
    rules: list[dict[str, str]] = Field(
        default_factory=list, description="The merchandising rules this search matched, `{id, kind}`, winner "
                                          "first; `explain.rule` names the one that pinned or moved a result.")
    synonyms: list[SynonymFired] | None = Field(
        None, description="With `explain=true`: the synonym rules that fired on the keyword leg (empty: none).")
    understood: list[UnderstoodPart] = Field(default_factory=list, description="Parts of the query recognised "
                                             "(boosts; `explain.understood`: a result's; none: `understand=false`).")
    fusion: Literal["rrf", "linear"] | None = Field(
        None, description="How a hybrid search merged its legs (the request's `fusion` or the server's); null "
                          "in a single-leg mode.")
    ranker: str | None = Field(
        None, description="The second stage: `ok` (the top fused candidates re-ordered by the model; "
                          "`explain.ranker` shows its score and top feature contributions), `off` (no model "
                          "loaded), `skipped: …` (not a hybrid relevance search, or personalised) or "
                          "`failed: …` (fused order kept).")


class FacetValue(_Open):
    """One facet value and how many eligible products it holds (the `meta.total` filtering by it gives)."""

    value: str | bool | float = Field(description="What to pass to the facet's filter (`price`: `50-100`; "
                                                  "`rating` → `rating_min`; `in_stock`: true/false).")
    count: int
    path: str | None = Field(None, description="category: the node's path, a `category` filter value.")
    level: int | None = Field(None, description="category: 1 for a root.")
    children: list[FacetValue] | None = Field(None, description="category: the nodes below, by count.")
    from_: float | None = Field(None, alias="from", description="price: lowest price of the band, inclusive.")
    to: float | None = Field(None, description="price: the band's upper bound, exclusive (absent: none).")
    min: float | None = Field(None, description="rating: the bucket holds products rated this or better.")


class SearchAnswer(BaseModel):
    """A page of results, the brand zone beside them, the facets asked for, and meta."""

    results: list[Product]
    brand_zone: BrandZone | None
    facets: dict[str, list[FacetValue]] | None = Field(
        None, description="With `facets`: each facet's values over the eligible set; a facet's counts apply "
                          "every other facet's selection but not its own.")
    meta: SearchMeta


class EventsAnswer(BaseModel):
    """What Elasticsearch acknowledged of a batch (207 when some items were refused)."""

    accepted: int
    rejected: list[dict[str, Any]] = Field(description="Refused items: `{index, field, message}`.")
    unknown_products: int = Field(description="Stored events about products the catalog does not hold.")
    unknown_queries: int = Field(0, description="Stored events whose query_id the query log does not hold (yet: "
                                                "the log is written asynchronously).")


class ClickAnswer(BaseModel):
    """A click stored (202): whether its query id was found in the query log yet."""

    accepted: bool
    known_query: bool = Field(description="False when the log does not hold the query id (yet: it is written "
                                          "asynchronously); the click is stored and counted anyway.")


class AnalyticsAnswer(_Open):
    """Search analytics over a window of UTC days (shopper traffic only; audits left out)."""

    window: dict[str, Any]
    searches: int
    clicks: int
    top_queries: list[dict[str, Any]] = Field(description="`{query, count, clicks, ctr}`, most searched first.")
    zero_result: list[dict[str, Any]] = Field(description="`{query, count}` of answers with no result.")
    relaxed: list[dict[str, Any]] = Field(description="`{query, count}` of answers flagged `meta.relaxed`.")
    ctr_by_position: list[dict[str, Any]] = Field(description="`{position, impressions, clicks, ctr}`, 1–10.")
    searches_per_day: list[dict[str, Any]] = Field(description="`{day, count}`.")
    mrr: float = Field(description="Mean over answers with a click of 1 / the best clicked position.")
    share_personalised: float


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
    query_log: dict[str, int] | None = Field(
        None, description="This worker's query-log writer: records `queued`, `written`, and `dropped` (queue full "
                          "or Elasticsearch refusing; the searches themselves never failed).")


class Ready(_Open):
    """Readiness: a live index and its vectors are loaded."""

    ready: bool
    index_version: str | None = None
    reason: str | None = None


class SynonymsReloaded(_Open):
    """The synonym set now in force in the process that answered (each server worker keeps its own)."""

    rules: int = Field(description="Rules in force: the file's plus the brand-keyword aliases.")
    file: str | None = Field(description="The synonym file's name (None: `STORESEARCH_SYNONYMS=off`).")
    file_rules: int
    brand_rules: int = Field(description="Equivalences of brand keywords and their aliases (live version).")
    pid: int = Field(description="The process that reloaded; other workers re-read a changed file on their own.")


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


class Persona(_Open):
    """A sample shopper: its kind, query, preference and viewing history (timestamped relative to now)."""

    id: str
    kind: str
    query: str | None
    preferred: dict[str, Any] | None
    history: list[dict[str, Any]] = Field(description="`{product_id, action, ts}`: send it as `POST /search` "
                                                      "`history`.")


class PersonaList(BaseModel):
    """The sample shoppers the search page offers (empty unless the server was given a personas file)."""

    personas: list[Persona]

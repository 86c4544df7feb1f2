"""What an audit runs: the `AuditRequest` model of `POST /audits` (and the CLI's), and the `AuditSpec` it yields.

Shapes are checked here; whether a stored shopper exists and whether an inline history is valid
for this deployment (its limits and clock) is the `persona` callback's (`audit_runs.resolve_persona`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SkipValidation, StringConstraints, model_validator

from indexer.index_format import normalize
from search_api.core.validation import NonBlank, is_bool_or_text, not_blank, problem, refuse, strings, validate
from search_api.personal.events import HistoryEvent
from search_api.retrieval.params import MAX_QUERY_CHARS, MAX_SIZE

DEFAULT_TOP_K = 50
MAX_CELLS = 20_000
"""One run's cells: 100 brands × 20 keywords × 3 personas is 6,000."""
MAX_LABEL_CHARS = 100
MAX_NAME_CHARS = 200
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Persona:
    """Who searches: nobody in particular, a stored user, or an inline viewing history."""

    label: str
    user_id: str | None = None
    history: tuple[Any, ...] | None = None

    def describe(self) -> dict[str, Any]:
        """How the persona is stored with a run."""
        kind = "user" if self.user_id else "history" if self.history is not None else ANONYMOUS
        out: dict[str, Any] = {"label": self.label, "kind": kind}
        if self.user_id:
            out["user_id"] = self.user_id
        if self.history is not None:
            out["history_events"] = len(self.history)
        return out


@dataclass(frozen=True)
class AuditSpec:
    """What to audit."""

    pairs: tuple[tuple[str, str], ...]
    """(brand, keyword)"""
    personas: tuple[Persona, ...]
    top_k: int = DEFAULT_TOP_K
    name: str = ""

    @property
    def cells(self) -> int:
        """Searches the audit will run."""
        return len(self.pairs) * len(self.personas)


def _texts(value: Any) -> list[str]:
    texts = strings(value) if isinstance(value, list) else None
    if texts is None:
        raise problem("must be a list of non-empty strings")
    return list(texts)


Texts = Annotated[list[NonBlank], BeforeValidator(_texts)]
Keywords = Annotated[list[Annotated[str, not_blank(maxLength=MAX_QUERY_CHARS)]], BeforeValidator(_texts)]
"""At most `MAX_QUERY_CHARS` each, counted after normalising, like `q`."""


class Pair(BaseModel):
    """One brand measured on one keyword."""

    brand: Annotated[str, not_blank()] = Field(min_length=1, description="The brand whose ranking is measured.")
    keyword: Annotated[str, not_blank(maxLength=MAX_QUERY_CHARS)] = Field(min_length=1, description="The query typed.")

    @model_validator(mode="before")
    @classmethod
    def _both(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or not all(isinstance(data.get(k), str) and data[k].strip()
                                                    for k in ("brand", "keyword")):
            raise problem("needs a non-empty brand and keyword")
        return {"brand": data["brand"].strip(), "keyword": data["keyword"].strip()}


class PersonaRequest(BaseModel):
    """Who searches: anonymous (a label only), a stored shopper (`user_id`) or an inline `history`."""

    model_config = ConfigDict(json_schema_extra={  # what `_one_kind` checks, for the contract
        "additionalProperties": False, "not": {"required": ["user_id", "history"], "properties": {
            "user_id": {"type": "string"}, "history": {"type": "array"}}}})

    label: Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1,
                                                   max_length=MAX_LABEL_CHARS), not_blank()] = Field(
        None, description="Unique in the audit; default: the user_id, `anonymous` or `history-<i>`.")
    user_id: Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1), not_blank()] = Field(
        None, description="A shopper with events in the profile window.")
    history: SkipValidation[list[HistoryEvent] | None] = Field(
        None, description="An inline viewing history, validated like `POST /search`'s.")

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            if data.get("user_id") is not None and data.get("history") is not None:
                raise problem("has a user_id or a history, not both")
            extra = sorted(set(data) - {"label", "user_id", "history"})  # given as null: absent
            if data.get("user_id") is None and data.get("history") is None and extra:
                raise problem(f"has unknown fields {extra}")  # a typo would silently make it anonymous
        return data

    def label_at(self, i: int) -> str:
        """The label, or its default for the `i`-th persona."""
        return self.label or self.user_id or (ANONYMOUS if self.history is None else f"history-{i}")


class AuditRequest(BaseModel):
    """`POST /audits`: brands × keywords (or explicit pairs) × personas, searched through the live path."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [  # what `_runnable` checks, for the contract
        {"required": ["pairs"], "properties": {"pairs": {"type": "array"}}},
        {"required": ["brands", "keywords"], "properties": {"brands": {"type": "array", "minItems": 1},
                                                            "keywords": {"type": "array", "minItems": 1}}}]})

    pairs: Annotated[list[Pair] | None, Field(json_schema_extra={"minItems": 1})] = Field(
        None, description="Explicit (brand, keyword) pairs; else brands × keywords.")
    brands: Texts | None = Field(None, description="Brands, each measured on every keyword.")
    keywords: Keywords | None = Field(None, description="Keywords, each searched once per persona.")
    top_k: Annotated[int, refuse(is_bool_or_text, "must be an integer")] = Field(
        DEFAULT_TOP_K, ge=1, le=MAX_SIZE, description="Results examined per cell.")
    personas: list[PersonaRequest] = Field(
        default_factory=lambda: [PersonaRequest()], min_length=1, description="Who searches (default: anonymous).")
    name: str = Field("", max_length=MAX_NAME_CHARS, description="A label for the run.")

    @model_validator(mode="before")
    @classmethod
    def _pairs_win(cls, data: Any) -> Any:
        """Explicit pairs make brands and keywords irrelevant, valid or not."""
        if isinstance(data, Mapping) and data.get("pairs") is not None:
            return {k: v for k, v in data.items() if k not in ("brands", "keywords")}
        return data

    @model_validator(mode="after")
    def _runnable(self) -> AuditRequest:
        if self.pairs is None:
            for name in ("brands", "keywords"):
                if getattr(self, name) is None:
                    raise problem("must be a list of non-empty strings", name)
        pairs = self.pair_list()
        if not pairs and self.pairs is not None:
            raise problem("must not be empty: nothing to audit", "pairs")
        if not pairs:
            raise problem("and brands need at least one value each: nothing to audit", "keywords")
        if any(len(normalize(keyword)) > MAX_QUERY_CHARS for _, keyword in pairs):
            raise problem(f"must each be at most {MAX_QUERY_CHARS} characters", "keywords")
        labels = [p.label_at(i) for i, p in enumerate(self.personas)]
        for i, label in enumerate(labels):
            if len(label) > MAX_LABEL_CHARS:  # a default label: the user_id
                raise problem(f"must be at most {MAX_LABEL_CHARS} characters", "personas", i, "label")
        if len(set(labels)) != len(labels):
            raise problem("must have unique labels", "personas")
        if len(pairs) * len(labels) > MAX_CELLS:
            raise problem(f"× personas make {len(pairs) * len(labels)} cells, more than {MAX_CELLS}; "
                          "split the audit", "pairs")
        return self

    def pair_list(self) -> list[tuple[str, str]]:
        """(brand, keyword) in order, without duplicates."""
        if self.pairs is not None:
            pairs = [(p.brand, p.keyword) for p in self.pairs]
        else:
            pairs = [(b, k) for b in self.brands or [] for k in self.keywords or []]
        return list(dict.fromkeys(pairs))


def parse_spec(body: Any, *, persona: Callable[[int, PersonaRequest], Persona]) -> AuditSpec:
    """Validate an audit request; `persona(i, request)` resolves one persona (and raises for unknown ones).

    Raises:
        InvalidParameter: naming the field (`keywords`, `top_k`, `personas[2].label`, …).

    """
    request = validate(AuditRequest, body)
    personas = tuple(persona(i, p) for i, p in enumerate(request.personas))
    return AuditSpec(tuple(request.pair_list()), personas, request.top_k, request.name)

"""Value objects of the catalog: products, brand keywords and rejected rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

PRODUCT_STATUSES = ("on_sale", "sold_out", "off_shelf", "deleted")
"""`off_shelf` and `deleted` products stay indexed (for audits and rollbacks) but never surface."""

HIDDEN_STATUSES = ("off_shelf", "deleted")

MatchKind = Literal["exact", "phrase", "contains"]
MATCH_KINDS: tuple[MatchKind, ...] = ("exact", "phrase", "contains")


@dataclass(frozen=True)
class Product:
    """One sellable item; only `id` and `title` are required, any language."""

    id: str
    title: str
    title_lang: str = "und"
    titles: Mapping[str, str] = field(default_factory=dict)
    brand: str | None = None
    category: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None
    bullets: tuple[str, ...] = ()
    color: str | None = None
    price: float | None = None
    sales: int | None = None
    rating: float | None = None
    rating_count: int | None = None
    shop: str | None = None
    status: str = "on_sale"
    image: str | None = None
    updated_at: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def title_en(self) -> str | None:
        """English title: the primary one if it is English, else a `title_en` field."""
        if "en" in self.titles:
            return self.titles["en"]
        return self.title if self.title_lang == "en" else None

    @property
    def title_zh(self) -> str | None:
        """Chinese title: the primary one if it is Chinese, else a `title_zh` field."""
        if "zh" in self.titles:
            return self.titles["zh"]
        return self.title if self.title_lang == "zh" else None


@dataclass(frozen=True)
class BrandKeyword:
    """A keyword a brand owns, with the window and landing set of its brand zone."""

    keyword: str
    brand_id: str
    brand: str
    aliases: tuple[str, ...] = ()
    priority: int = 0
    active_from: datetime | None = None
    active_to: datetime | None = None
    landing_products: tuple[str, ...] = ()
    landing_categories: tuple[str, ...] = ()
    match: MatchKind = "phrase"
    id: str = ""


@dataclass(frozen=True)
class Reject:
    """A row that was not indexed, and exactly why."""

    source: str
    line: int
    reason: str
    field: str | None = None
    id: str | None = None

    def describe(self) -> str:
        """`file:line: [field] reason` for logs and reports."""
        where = f"{self.source}:{self.line}"
        what = f"{self.field}: {self.reason}" if self.field else self.reason
        return f"{where}: {what}"

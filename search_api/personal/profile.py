"""A shopper's profile from recent events: a taste vector plus brand and category affinities.

Each event weighs `action_weight · 0.5^(age / half_life)`: an order says more than a view, and
last night's views more than last month's. The vector is the L2-normalised weighted centroid of
the viewed products' vectors, so it lives in the same space as queries and products; affinities
are each brand's / leaf category's share of the total weight (products the index does not know
count in no share and in no total).

Pure: events and item facts in, a `Profile` out, no I/O. Fetching the events and the vectors and
caching the result is `profile_store.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from search_api.personal.events import Event


@dataclass(frozen=True)
class ItemInfo:
    """What a profile needs of one product."""

    brand: str | None
    category: str | None
    vector: np.ndarray | None


@dataclass(frozen=True)
class Profile:
    """A user's taste; `empty` means nothing to personalise by."""

    vector: np.ndarray | None
    brands: tuple[tuple[str, float], ...]
    categories: tuple[tuple[str, float], ...]
    events: int
    known: int
    last_event: datetime | None
    events_in_window: int = 0

    @property
    def empty(self) -> bool:
        """No known product was seen: the search must stay exactly unpersonalised."""
        return self.known == 0

    def describe(self) -> dict[str, object]:
        """Readable form for `GET /users/<id>/profile` and `meta.profile`."""
        return {
            "events": self.events,
            "events_in_window": max(self.events_in_window, self.events),
            "known_products": self.known,
            "last_event": self.last_event.isoformat(timespec="seconds") if self.last_event else None,
            "top_brands": [{"brand": b, "share": round(s, 4)} for b, s in self.brands],
            "top_categories": [{"category": c, "share": round(s, 4)} for c, s in self.categories],
            "has_vector": self.vector is not None,
        }


EMPTY = Profile(None, (), (), 0, 0, None)


def event_weight(action: str, age_s: float, *, weights: Mapping[str, float], half_life_s: float) -> float:
    """Action weight halved every `half_life_s` of age (future timestamps count as now)."""
    return weights.get(action, 0.0) * 0.5 ** (max(age_s, 0.0) / half_life_s)


def _top(totals: Mapping[str, float], whole: float, top: int) -> tuple[tuple[str, float], ...]:
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return tuple((name, value / whole) for name, value in ranked if value > 0)


def build(events: Sequence[Event], items: Mapping[str, ItemInfo], *, now: datetime,
          weights: Mapping[str, float], half_life_hours: float, top: int = 5,
          events_in_window: int = 0) -> Profile:
    """Fold events into a profile.

    Args:
        events: the user's recent events (any order).
        items: product id → info; ids missing here are unknown products and are skipped.
        now: the clock ages are measured against.
        weights: action → weight.
        half_life_hours: age at which an event counts half.
        top: brands and categories kept.
        events_in_window: how many events the window held (for display; may exceed `events`).

    """
    half_life_s = half_life_hours * 3600.0
    brand_w: dict[str, float] = {}
    category_w: dict[str, float] = {}
    whole = 0.0
    known = 0
    centroid: np.ndarray | None = None
    for event in events:
        info = items.get(event.product_id)
        if info is None:
            continue
        known += 1
        w = event_weight(event.action, (now - event.ts).total_seconds(), weights=weights,
                         half_life_s=half_life_s)
        whole += w
        if info.brand:
            brand_w[info.brand] = brand_w.get(info.brand, 0.0) + w
        if info.category:
            category_w[info.category] = category_w.get(info.category, 0.0) + w
        if info.vector is not None and w > 0:
            centroid = w * info.vector if centroid is None else centroid + w * info.vector
    vector = None
    if centroid is not None and (norm := float(np.linalg.norm(centroid))) > 0:
        vector = (centroid / norm).astype(np.float32)
    return Profile(
        vector=vector,
        brands=_top(brand_w, whole, top) if whole > 0 else (),
        categories=_top(category_w, whole, top) if whole > 0 else (),
        events=len(events), known=known,
        last_event=max((e.ts for e in events), default=None),
        events_in_window=events_in_window)

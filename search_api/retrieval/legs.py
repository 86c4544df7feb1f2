"""What every retrieval leg yields: its ranked ids (`LegResult`) and how it went (`LegStatus`).

A status stays a typed value through the pipeline and becomes the contract's string (`meta.legs`,
see API.md) only when the answer is described, so no step has to parse a string back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from search_api.personal.profile import Profile
from search_api.synonyms.expansion import NOTHING, Expansion
from search_api.understand.recognise import Understanding

LEG_ORDER = ("personal", "semantic", "keyword", "profile")
"""The order of `meta.legs`: the profile is settled first, the profile leg last."""


@dataclass(frozen=True)
class LegResult:
    """Ranked ids of one leg with their native scores."""

    ids: list[str]
    scores: list[float]
    total: int = 0
    relaxed: str | None = None
    """The keyword leg's matching level when it had to relax (`relax.Level`), else None."""
    corrected: str | None = None
    """The spelling-corrected query the keyword leg searched alongside the query as typed."""
    variants: tuple[str, ...] = ()
    """The synonym variants the keyword leg searched beside the query."""
    levels: Mapping[str, str] = field(default_factory=dict)
    """For a relaxed keyword leg: each hit's strictest matching level (`relax.Level` values)."""
    understood: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    """Keyword hits that matched recognised parts: id → indices into `Understanding.parts`."""
    searched: str | None = None
    """The text the legs searched when query understanding took a price expression or an exclusion out of it."""


class LegState(Enum):
    """How a leg went; the value is its word in `meta.legs`."""

    OK = "ok"
    PERSONALISED = "ok (personalised)"
    NO_HISTORY = "no history"
    SKIPPED = "skipped"
    FAILED = "failed"


_WITH_REASON = frozenset({LegState.SKIPPED, LegState.FAILED})
"""States whose answer always carries the reason after a colon (even an empty one)."""

TIMEOUT = "timeout"
"""The reason of a leg that ran out of its time budget (`budget`)."""

PUBLIC_FAILURES = frozenset({TIMEOUT})
"""Failure reasons every caller may read as they are: ours, never an engine's words."""


@dataclass(frozen=True)
class LegStatus:
    """A leg's state, with the reason when it was skipped or failed."""

    state: LegState
    detail: str = ""

    def __post_init__(self) -> None:
        """A reason on a state that never shows one would be silently lost."""
        if self.detail and self.state not in _WITH_REASON:
            raise ValueError(f"a {self.state.name} leg status carries no detail")

    @classmethod
    def failure(cls, detail: str) -> LegStatus:
        """The leg failed; `detail` says why (an engine message or an exception's class)."""
        return cls(LegState.FAILED, detail)

    @classmethod
    def timeout(cls) -> LegStatus:
        """The leg ran out of its time budget; the answer went on without it."""
        return cls(LegState.FAILED, TIMEOUT)

    @classmethod
    def skip(cls, detail: str) -> LegStatus:
        """The leg did not run by design (e.g. the model cannot read the query)."""
        return cls(LegState.SKIPPED, detail)

    @property
    def failed(self) -> bool:
        """Whether the leg failed (which degrades the answer)."""
        return self.state is LegState.FAILED

    @property
    def skipped(self) -> bool:
        """Whether the leg was skipped by design."""
        return self.state is LegState.SKIPPED

    @property
    def outcome(self) -> str:
        """The status as metrics count it: "ok" (personalised or not, with or without history), "skipped", "failed"."""
        return "failed" if self.failed else "skipped" if self.skipped else "ok"

    def render(self) -> str:
        """The status as the HTTP answer spells it: "ok", "failed: <reason>", …."""
        if self.state in _WITH_REASON:
            return f"{self.state.value}: {self.detail}"
        return self.state.value


def usable(profile: Profile | None) -> Profile | None:
    """The profile to personalise by: None without one or when it knows no viewed product."""
    return profile if profile is not None and not profile.empty else None


@dataclass(frozen=True)
class Retrieved:
    """Everything the legs of one request produced.

    `results` keep the order semantic, keyword, profile: fusion breaks ties by first sight.
    """

    statuses: Mapping[str, LegStatus]
    results: Mapping[str, LegResult]
    profile: Profile | None = None
    """The profile built for the request (possibly empty); None when none was asked for or it failed."""
    synonyms: Expansion = NOTHING
    """The synonyms the keyword leg searched with."""
    understood: Understanding | None = None
    """What query understanding recognised (None: it was off, or the mode has no keyword leg)."""
    query_vector: np.ndarray | None = None
    """The query's embedding (None when not encoded): the second stage's cosine for every candidate."""

    @property
    def personal(self) -> Profile | None:
        """The profile the legs personalised by, if any."""
        return usable(self.profile)

    @property
    def failed(self) -> list[str]:
        """Names of the legs that failed, in `meta.legs` order."""
        return [name for name, status in self.statuses.items() if status.failed]

    @property
    def profile_asked(self) -> bool:
        """Whether the request asked for personalisation (it then has a `personal` status)."""
        return "personal" in self.statuses


def in_leg_order(statuses: Mapping[str, LegStatus]) -> dict[str, LegStatus]:
    """The statuses in `meta.legs` order, whatever order the legs finished in."""
    return {name: statuses[name] for name in LEG_ORDER if name in statuses}

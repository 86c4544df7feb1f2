"""What a build reports: counts, indices, and where its wall time went."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from indexer.catalog.models import Reject
from indexer.store.bulk import BulkFailure


@contextlib.contextmanager
def timed(into: dict[str, float], label: str) -> Iterator[None]:
    """Add the wall seconds of the block to `into[label]`."""
    started = time.perf_counter()
    try:
        yield
    finally:
        into[label] = into.get(label, 0.0) + time.perf_counter() - started


@dataclass
class BuildReport:
    """The outcome of a build, for the CLI summary and for tests."""

    version: str
    products_index: str
    brand_keywords_index: str | None = None
    snapshot: Path | None = None
    rows: int = 0
    accepted: int = 0
    rejects: list[Reject] = field(default_factory=list)
    reject_report: Path | None = None
    brand_keywords: int = 0
    suggestions_index: str | None = None
    suggestions: int = 0
    failures: list[BulkFailure] = field(default_factory=list)
    vectors: int = 0
    previous: str | None = None
    seconds: float = 0.0
    embed_seconds: float = 0.0
    cache_hits: int = 0
    cache_misses: int = 0
    resumed: bool = False
    base: str | None = None
    """The live index this build started from (a clone), None when written from scratch."""
    rewritten: int = 0
    removed: int = 0
    replayed: int = 0
    pruned: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    """Wall seconds per build step, in order: where a slow build spends its time."""
    load_split: dict[str, float] = field(default_factory=dict)
    """The product load's wall seconds by what the main thread did: read (catalog + validation),
    wait (for Elasticsearch to finish the previous batch before a forward pass), encode, analyse,
    write (documents built and queued; includes waits for a full queue)."""

    def phase(self, name: str) -> contextlib.AbstractContextManager[None]:
        """Time one build step into `phases`."""
        return timed(self.phases, name)

    @property
    def docs_per_s(self) -> float:
        """Accepted products per wall-clock second, end to end."""
        return self.accepted / self.seconds if self.seconds else 0.0

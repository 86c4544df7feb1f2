"""Build records: what each full build was, how far it got, and what became of it.

A record (`build-<stamp>` in the state index) is written when a build starts and updated at
checkpoints and at the end, so `indexer versions` can show every version's state and an
interrupted build can be resumed exactly where Elasticsearch last acknowledged it.

States: running → verified → live → retired (a newer version went live) or rolled back;
running → interrupted (resumable) or failed (discarded); discarded/pruned when deleted.
"""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from indexer.core.config import Settings
from indexer.core.errors import BuildError
from indexer.store import state

RESUMABLE = ("running", "interrupted")


@dataclass
class Source:
    """A catalog file as it was when the build read it; resuming needs the very same bytes."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> Source:
        """Describe a file now."""
        st = path.stat()
        return cls(str(path.resolve()), st.st_size, st.st_mtime_ns)

    def changed(self) -> str | None:
        """Why the file no longer matches, or None."""
        path = Path(self.path)
        if not path.is_file():
            return f"{self.path} is gone"
        st = path.stat()
        if (st.st_size, st.st_mtime_ns) != (self.size, self.mtime_ns):
            return f"{self.path} changed since the build started"
        return None


@dataclass
class BuildRecord:
    """One full build."""

    stamp: str
    products_index: str
    brand_keywords_index: str | None
    products: list[Source]
    brand_keywords: list[Source]
    model: str
    batch_size: int
    seq: int
    live_before: str | None
    state: str = "running"
    batches_done: int = -1
    """Highest batch number whose every document Elasticsearch acknowledged."""
    accepted: int = 0
    vectors: int = 0
    error: str | None = None
    fingerprint: str | None = None
    """What its documents depend on besides the catalog (`indexer.reuse.build_fingerprint`)."""
    base: str | None = None
    """The live index this build cloned and then brought in line with the catalog (None: written
    from scratch)."""
    rewritten: int = 0
    """Products a reusing build wrote (changed, new, or changed since the base's snapshot)."""
    removed: int = 0
    """Documents a reusing build deleted from the clone (gone from the catalog)."""
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    updated: str = ""
    suggestions_index: str | None = None
    """The version's search-box suggestions (None: built before suggestions existed)."""

    @property
    def doc_id(self) -> str:
        """Its id in the state index."""
        return f"build-{self.stamp}"

    def save(self, es: Elasticsearch, settings: Settings) -> None:
        """Write the record (the build owns it; no compare-and-set needed)."""
        self.updated = datetime.now(UTC).isoformat(timespec="seconds")
        body: dict[str, Any] = {"kind": "build", **asdict(self)}
        state.put(es, settings, self.doc_id, body)

    @classmethod
    def from_source(cls, source: dict[str, Any]) -> BuildRecord:
        """Parse a stored record."""
        data = {k: v for k, v in source.items() if k != "kind"}
        data["products"] = [Source(**s) for s in data.get("products", [])]
        data["brand_keywords"] = [Source(**s) for s in data.get("brand_keywords", [])]
        return cls(**data)


def load(es: Elasticsearch, settings: Settings, stamp: str) -> BuildRecord:
    """The record of one build.

    Raises:
        BuildError: no such build.

    """
    got = state.read(es, settings, f"build-{stamp}")
    if not got.exists:
        raise BuildError(f"no build {stamp!r} is recorded under prefix {settings.prefix!r}")
    return BuildRecord.from_source(got.source or {})


def all_records(es: Elasticsearch, settings: Settings) -> list[BuildRecord]:
    """Every recorded build, newest first."""
    return [BuildRecord.from_source(s) for s in state.search(es, settings, "build")]


def latest_resumable(es: Elasticsearch, settings: Settings) -> BuildRecord:
    """The newest build that can be resumed.

    Raises:
        BuildError: none can.

    """
    for record in all_records(es, settings):
        if record.state in RESUMABLE:
            return record
    raise BuildError("no interrupted build to resume")

"""A persistent bytes → bytes map in SQLite, looked up many keys at a time.

The build caches (embeddings, analysed text) are keyed by content hashes and read back in
batches of a thousand; SQLite in WAL mode does that in milliseconds, survives a killed process
(committed batches stay), and lets several processes share one file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from indexer.core.errors import ConfigError

LOOKUP_CHUNK = 900
"""Keys per `IN (...)` query: under SQLite's default limit of 999 host parameters."""


class BlobStore:
    """One table of (key BLOB PRIMARY KEY, value BLOB) in one SQLite file."""

    def __init__(self, path: Path, table: str) -> None:
        """Open (or create) the file and table.

        Raises:
            ConfigError: the file cannot be opened as a SQLite database.

        """
        if not table.isidentifier():
            raise ValueError(f"bad table name {table!r}")
        self.path = path
        self._table = table
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # a lost tail only costs recomputing it
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} (key BLOB PRIMARY KEY, value BLOB NOT NULL)"
                             " WITHOUT ROWID")
        except (sqlite3.Error, OSError) as exc:
            raise ConfigError(f"cannot open cache {path}: {exc}") from exc

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        """The stored values of those keys that are present."""
        found: dict[bytes, bytes] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start:start + LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(self._db.execute(f"SELECT key, value FROM {self._table} WHERE key IN ({marks})", chunk))
        return found

    def put_many(self, items: Iterable[tuple[bytes, bytes]]) -> None:
        """Store (key, value) pairs in one transaction."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(f"INSERT OR REPLACE INTO {self._table} (key, value) VALUES (?, ?)", items)

    def close(self) -> None:
        """Close the file."""
        self._db.close()

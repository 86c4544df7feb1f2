"""Cluster-wide locks in the state index: one full build at a time, one writer of changes at a time.

A lock is a document created with `op_type=create` (so exactly one process wins) and kept alive
by a heartbeat thread. A lock whose heartbeat is older than `stale_after` — or whose owner is a
dead process on this very host — is stale: the next taker replaces it with compare-and-set, so
a killed indexer never blocks the next one for longer than that.

A lock may also guard a write block its owner put on an index (a rebuild cloning the live
version blocks writes to it for the second the clone takes): the owner names that index in the
lock, and whoever takes the lock over from a dead owner lifts the block first.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from indexer.core.config import Settings
from indexer.core.errors import IndexerError, LockedError
from indexer.core.es import engine_errors
from indexer.store import state

log = logging.getLogger(__name__)

BUILD_LOCK = "lock-build"
"""Held for a whole full build."""
WRITE_LOCK = "lock-write"
"""Held while changes are written to a live index (upserts, deletes, a build's final replay+swap):
sequence order is then visibility order, which catch-up replicas rely on."""
WRITE_LOCK_WAIT_S = 120.0
"""How long a writer waits for the write lock; a full build holds it for its final replay,
snapshot, verification and swap (~15 s at 100k products)."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(owner: dict[str, Any], stale_after: float) -> str | None:
    """Why a held lock may be taken over, or None if its owner is alive."""
    age = time.time() - float(owner.get("heartbeat", 0))
    if age > stale_after:
        return f"no heartbeat for {age:.0f} s"
    if owner.get("host") == socket.gethostname() and not _alive(int(owner.get("pid", 0))):
        return f"process {owner.get('pid')} on this host is gone"
    return None


def lift_write_block(es: Elasticsearch, index: str) -> None:
    """Let writes into `index` again (a missing index has nothing to lift)."""
    with engine_errors(f"lifting the write block of {index}"):
        try:
            es.indices.put_settings(index=index, settings={"index.blocks.write": None})
        except NotFoundError:
            return


class Lock:
    """A named lock; use as a context manager or acquire/release explicitly."""

    def __init__(self, es: Elasticsearch, settings: Settings, name: str, *, purpose: str,
                 wait: float = 0.0, write_block: str | None = None) -> None:
        """Describe the lock; nothing is taken until `acquire`.

        Args:
            es: client.
            settings: for the state index and the stale/heartbeat timings.
            name: `BUILD_LOCK` or `WRITE_LOCK`.
            purpose: shown to whoever finds the lock held ("build 20261125t…", "upsert").
            wait: seconds to keep retrying while another owner holds it (0: refuse at once).
            write_block: an index this owner will write-block while it holds the lock.

        """
        self._es = es
        self._settings = settings
        self.name = name
        self._purpose = purpose
        self._wait = wait
        self._write_block = write_block
        self._token = f"{socket.gethostname()}:{os.getpid()}:{time.time_ns()}"
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self.lost: str | None = None

    def _owner(self) -> dict[str, Any]:
        return {"kind": "lock", "token": self._token, "purpose": self._purpose, "host": socket.gethostname(),
                "pid": os.getpid(), "heartbeat": time.time(), "write_block": self._write_block,
                "updated": datetime.now(UTC).isoformat(timespec="seconds")}

    def acquire(self) -> Lock:
        """Take the lock.

        Raises:
            LockedError: a live owner holds it (after waiting `wait` seconds); the message says who.

        """
        deadline = time.monotonic() + self._wait
        while True:
            current = state.read(self._es, self._settings, self.name)
            if not current.exists:
                if state.write_if(self._es, self._settings, current, self._owner()):
                    break
                continue
            owner = current.source or {}
            why = _stale(owner, self._settings.lock_stale_seconds)
            if why:
                log.warning("taking over stale lock %s from %s (%s)", self.name, owner.get("purpose"), why)
                if state.write_if(self._es, self._settings, current, self._owner()):
                    if owner.get("write_block"):
                        lift_write_block(self._es, owner["write_block"])
                        log.warning("lifted any write block the dead owner left on %s", owner["write_block"])
                    break
                continue
            if time.monotonic() >= deadline:
                age = time.time() - float(owner.get("heartbeat", 0))
                raise LockedError(
                    f"{self.name.removeprefix('lock-')} lock is held by {owner.get('purpose')} (host "
                    f"{owner.get('host')}, pid {owner.get('pid')}, heartbeat {age:.0f} s ago); it is "
                    f"considered stale after {self._settings.lock_stale_seconds:.0f} s")
            time.sleep(0.2)
        self._stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True, name=f"{self.name}-heartbeat")
        self._beat.start()
        return self

    def _heartbeat(self) -> None:
        interval = max(0.5, self._settings.lock_stale_seconds / 4)
        while not self._stop.wait(interval):
            try:
                current = state.read(self._es, self._settings, self.name)
                if not current.exists or (current.source or {}).get("token") != self._token:
                    self.lost = "the lock was taken over by another process"
                    log.error("%s: %s", self.name, self.lost)
                    return
                state.write_if(self._es, self._settings, current, self._owner())
            except IndexerError as exc:  # ES down: the build itself will fail on its next request
                log.warning("heartbeat of %s failed: %s", self.name, exc)

    def release(self) -> None:
        """Stop the heartbeat and delete the lock if it is still ours (best effort)."""
        self._stop.set()
        if self._beat:
            self._beat.join(timeout=5)
        try:
            current = state.read(self._es, self._settings, self.name)
            if current.exists and (current.source or {}).get("token") == self._token:
                state.delete_if(self._es, self._settings, current)
        except IndexerError as exc:
            log.warning("could not release %s (it will go stale): %s", self.name, exc)

    def __enter__(self) -> Lock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

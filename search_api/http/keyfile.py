"""The keys file (`STORESEARCH_API_KEYS_FILE`): one JSON object per line, never a plain key.

    {"id": "feed-writer", "hash": "sha256:…", "scopes": ["events:write"], "created": "2025-…Z"}

Blank lines and lines starting with `#` are ignored. `search-api keys` writes it (atomically,
mode 0600, under a sibling `.lock` file so two commands never lose each other's change); people
may edit it too, and the server picks up either within a second (`keyring.KeyRing`).
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from indexer.index_format import ConfigError
from search_api.core.credentials import SCOPES, Caller, StoredKey, digest_of


class KeyEntry(BaseModel):
    """One line of the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    hash: str
    scopes: tuple[str, ...] = Field(min_length=1)
    created: str | None = None

    @field_validator("hash")
    @classmethod
    def _hash(cls, value: str) -> str:
        digest_of(value)
        return value

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in value if s not in SCOPES]
        if unknown:
            raise ValueError(f"unknown scope {unknown[0]!r}; known: {', '.join(SCOPES)}")
        return tuple(dict.fromkeys(value))

    def stored(self) -> StoredKey:
        """What the key ring keeps of this entry."""
        return StoredKey(Caller(self.id, frozenset(self.scopes)), digest_of(self.hash))


def parse(text: str, source: str) -> tuple[list[KeyEntry], list[str]]:
    """The valid entries of a file's text, and a `source:line: problem` for each invalid line."""
    entries: list[KeyEntry] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            entry = KeyEntry.model_validate(json.loads(line))
        except (ValueError, ValidationError) as exc:
            problems.append(f"{source}:{number}: {describe(exc)}")
            continue
        if entry.id in seen:
            problems.append(f"{source}:{number}: id {entry.id!r} appears twice")
            continue
        seen.add(entry.id)
        entries.append(entry)
    return entries, problems


def describe(exc: Exception) -> str:
    """What is wrong with a line: the field and pydantic's sentence, or the JSON error."""
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "line"
        return f"{where}: {str(error['msg']).removeprefix('Value error, ')}"
    return f"not a JSON object ({exc})"


def read(path: Path) -> list[KeyEntry]:
    """Every entry of the file (missing file: none).

    Raises:
        ConfigError: the file cannot be read, or a line is invalid (all such lines named).

    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the keys file {path}: {exc}") from exc
    entries, problems = parse(text, str(path))
    if problems:
        raise ConfigError("invalid keys file: " + "; ".join(problems))
    return entries


def write(path: Path, entries: list[KeyEntry]) -> None:
    """Replace the file atomically (readers see the old or the new file, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for entry in entries:
                fh.write(json.dumps(entry.model_dump(exclude_none=True), ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the file's `.lock` sibling: read-modify-write cycles of two commands do not interleave."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

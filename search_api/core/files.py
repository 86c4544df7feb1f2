"""Whether a watched file changed, cheaply: files re-read without a restart (keys, synonyms) stat it."""

from __future__ import annotations

import os
from pathlib import Path

Signature = tuple[int, int, int] | None
"""(mtime in ns, size, inode), or None when the file cannot be stat'ed: an editor's atomic rename
changes the inode even when the mtime's resolution hides the write."""


def signature(path: Path) -> Signature:
    """The file's signature now (None if it is missing or unreadable)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

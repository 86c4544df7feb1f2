"""The sample shoppers the search page offers: `personas.jsonl` of `indexer sample --personas N`.

Each persona's viewing history is stored with ages (`age_hours`); served, each event gets a
timestamp that age before now, so the page can send the history inline (`POST /search`
`history`, no key needed) and see personalisation change the order.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
MAX_PERSONAS = 100
"""Enough to pick from in a drop-down; the sample benchmark writes 80."""


def load(path: Path | None, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The personas of `path` (none when unset or unreadable), their histories timestamped from `now`."""
    if path is None:
        return []
    now = now or datetime.now(UTC)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("personas file %s unreadable: %s", path, exc)
        return []
    out = []
    for number, line in enumerate(lines[:MAX_PERSONAS], 1):
        try:
            out.append(_persona(json.loads(line), now))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("personas file %s line %d skipped: %s", path, number, exc)
    return out


def _persona(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What the page shows and sends of one persona."""
    history = [{"product_id": str(e["product_id"]), "action": str(e.get("action", "view")),
                "ts": (now - timedelta(hours=float(e.get("age_hours", 0)))).isoformat(timespec="seconds")}
               for e in row["history"]]
    return {"id": str(row["id"]), "kind": str(row.get("kind", "")), "query": row.get("query"),
            "preferred": row.get("preferred"), "history": history}

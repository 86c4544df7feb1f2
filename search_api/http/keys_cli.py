"""`search-api keys add|rotate|revoke|list`: manage the API keys file; a running server follows within a second.

`add` and `rotate` print the new key once, alone on stdout (`KEY=$(search-api keys add …)`), and
write only its hash; nothing can show the key again. `rotate` replaces the key of an id (same
scopes): the old key stops working as soon as the server sees the file change.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from indexer.index_format import ConfigError
from search_api.core.credentials import SCOPES, hash_key, new_key
from search_api.core.settings import ApiSettings
from search_api.http import keyfile
from search_api.http.keyfile import KeyEntry


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the `keys` subcommand and its actions."""
    keys = sub.add_parser("keys", help="add, rotate, revoke or list API keys (the keys file holds only hashes)")
    actions = keys.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create a key for an id; prints it once")
    add.add_argument("--scopes", nargs="+", required=True,
                     help=f"scopes, space- or comma-separated: {', '.join(SCOPES)} (admin implies all)")
    rotate = actions.add_parser("rotate", help="replace an id's key (same scopes); prints the new one once")
    revoke = actions.add_parser("revoke", help="remove an id's key")
    listing = actions.add_parser("list", help="ids, scopes, creation time and hash prefix")
    for action in (add, rotate, revoke):
        action.add_argument("--id", required=True, help="who the key is for, e.g. feed-writer")
    for action in (add, rotate, revoke, listing):
        action.add_argument("--file", type=Path, help="the keys file (default STORESEARCH_API_KEYS_FILE)")


def run(args: argparse.Namespace, settings: ApiSettings) -> int:
    """Execute the action; errors propagate to the CLI's exit-code mapping."""
    path = args.file or settings.api_keys_file
    if path is None:
        raise ConfigError("no keys file: pass --file or set STORESEARCH_API_KEYS_FILE")
    if args.action == "list":
        for entry in keyfile.read(path):
            print(f"{entry.id}\t{','.join(entry.scopes)}\t{entry.created or '-'}\t{entry.hash[:19]}…")
        return 0
    with keyfile.locked(path):
        entries = keyfile.read(path)
        by_id = {entry.id: entry for entry in entries}
        if args.action == "add" and args.id in by_id:
            raise ConfigError(f"a key with id {args.id!r} exists: rotate or revoke it")
        if args.action != "add" and args.id not in by_id:
            raise ConfigError(f"no key with id {args.id!r} in {path}")
        if args.action == "revoke":
            keyfile.write(path, [e for e in entries if e.id != args.id])
            print(f"revoked {args.id}", file=sys.stderr)
            return 0
        key = new_key()
        scopes = _scopes(args.scopes) if args.action == "add" else by_id[args.id].scopes
        entry = _entry(args.id, key, scopes)
        keyfile.write(path, [entry if e.id == args.id else e for e in entries] if args.action == "rotate"
                      else [*entries, entry])
    print(key)
    print(f"{args.action}: key for {args.id} ({', '.join(entry.scopes)}) in {path}; "
          "it is shown only now, store it", file=sys.stderr)
    return 0


def _scopes(values: list[str]) -> tuple[str, ...]:
    return tuple(s.strip() for value in values for s in value.split(",") if s.strip())


def _entry(key_id: str, key: str, scopes: tuple[str, ...]) -> KeyEntry:
    try:
        return KeyEntry(id=key_id, hash=hash_key(key), scopes=scopes,
                        created=datetime.now(UTC).isoformat(timespec="seconds"))
    except ValueError as exc:  # pydantic's ValidationError: a bad id or scope
        raise ConfigError(f"invalid key: {keyfile.describe(exc)}") from None

"""`search-api rules list|put FILE|delete ID`: manage merchandising rules from a shell.

Writes go straight to `<prefix>-rules` through the same checks as `PUT /rules/<id>`; running API
processes pick them up within `STORESEARCH_RULES_REFRESH_S`. `put` reads a JSON object (one rule
with its `id`) or an array of them, validates every rule before writing any, and ends on the first
refused one with one line naming the rule and the field (exit 2).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from indexer.index_format import ConfigError, make_client
from search_api.core.errors import ApiError
from search_api.core.settings import ApiSettings
from search_api.rules import store
from search_api.rules.model import RULE_ID, AnyRule, parse_rule

T = TypeVar("T")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the `rules` subcommand and its actions."""
    rules = sub.add_parser("rules", help="list, put or delete merchandising rules (pin, hide, boost, bury)")
    actions = rules.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every rule: id, kind, match, query, products, position/by, priority, window")
    put = actions.add_parser("put", help="create or replace the rules in a JSON file (an object or an array)")
    put.add_argument("file", type=Path)
    delete = actions.add_parser("delete", help="delete a rule")
    delete.add_argument("id")


def _read(path: Path) -> list[tuple[str, AnyRule]]:
    """(id, rule) of every rule in the file, all validated.

    Raises:
        ConfigError: unreadable file, or a rule refused (naming the rule and the field).

    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read rules from {path}: {exc}") from exc
    out = []
    for i, item in enumerate(data if isinstance(data, list) else [data]):
        body: dict[str, Any] = dict(item) if isinstance(item, dict) else {}
        rule_id = str(body.pop("id", ""))
        if not RULE_ID.fullmatch(rule_id):
            raise ConfigError(f"{path}: rule {i}: id must be 1-64 letters, digits, ., _ or -")
        out.append((rule_id, _checked(path, rule_id, partial(parse_rule, body))))
    return out


def _checked(path: Path, rule_id: str, action: Callable[[], T]) -> T:
    """`action()`, a refusal worded as one line naming the file, the rule and the field."""
    try:
        return action()
    except ApiError as exc:
        raise ConfigError(f"{path}: rule {rule_id}: {exc.field}: {exc.message}") from exc


def _line(rule: dict[str, Any]) -> str:
    place = f"position={rule['position']}" if "position" in rule else f"by={rule['by']}" if "by" in rule else "-"
    window = f"{rule.get('active_from') or '…'} → {rule.get('active_to') or '…'}"
    return "\t".join([rule["id"], rule["kind"], rule["match"], rule["query"], ",".join(rule["products"]), place,
                      f"priority={rule['priority']}", window])


def run(args: argparse.Namespace, settings: ApiSettings) -> int:
    """Execute the action; errors propagate to the CLI's exit-code mapping."""
    rules = _read(args.file) if args.action == "put" else []
    es = make_client(settings)
    try:
        if args.action == "list":
            for rule in store.listing(es, settings):
                print(_line(rule))
        elif args.action == "delete":
            if not store.delete(es, settings, args.id):
                raise ConfigError(f"no rule {args.id!r}")
            print(f"deleted rule {args.id}")
        for rule_id, rule in rules:
            _, created = _checked(args.file, rule_id, partial(store.put, es, settings, rule_id, rule))
            print(f"{'created' if created else 'replaced'} rule {rule_id}")
    finally:
        es.close()
    return 0

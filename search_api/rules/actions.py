"""What the matched rules do to a ranking: pure functions from rules and ids to a new order.

Precedence (documented in the README): a hide always wins (a recall or takedown is never undone
by a campaign); then pins; then boosts and buries, which move only products that are neither
hidden nor pinned. Within one kind the rules' precedence decides (priority, then the more
specific match, then the longer query, then the id): the first pin to claim a position keeps
it, a product keeps the first position it is pinned to, and a product's first boost or bury is
the one applied.

Positions and moves count in the list the shopper sees (the candidates that passed the filters),
1-based. A boost takes a product out and puts it back `by` places higher (at most at the top), a
bury `by` places lower (at most at the end); moves apply one after the other in precedence
order, so a later move may shift an earlier one by a place. Pins are placed last, at their
positions. A pin past the end of a shorter list lands at its end.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from search_api.rules.index import Rule

Scored = list[tuple[str, float]]
"""(id, score) pairs in answer order (`fusion.Ranked`)."""


@dataclass(frozen=True)
class Plan:
    """What the rules a query matched ask for."""

    rules: tuple[Rule, ...] = ()
    hidden: dict[str, Rule] = field(default_factory=dict)
    pins: dict[int, tuple[str, Rule]] = field(default_factory=dict)
    """1-based position → (product, the rule that pinned it)."""
    moves: dict[str, tuple[int, Rule]] = field(default_factory=dict)
    """Product → (places to move, negative up, the rule that moves it)."""

    @property
    def positional(self) -> bool:
        """Whether the plan places products (pins, moves), which needs the filtered candidate list."""
        return bool(self.pins or self.moves)

    def depth(self, ranked_ids: Sequence[str]) -> int:
        """How many shown places the plan can touch: its deepest pin, or a moved product's place plus a bury."""
        need = max(self.pins, default=0)
        if self.moves:
            for i, doc_id in enumerate(ranked_ids):
                if doc_id in self.moves:
                    need = max(need, i + 1 + max(self.moves[doc_id][0], 0))
        return need

    def pinned(self) -> list[str]:
        """The pinned products, in position order."""
        return [product for _, (product, _) in sorted(self.pins.items())]


def plan(rules: Sequence[Rule]) -> Plan:
    """The combined effect of matched rules, given winner first."""
    hidden: dict[str, Rule] = {}
    for rule in (r for r in rules if r.kind == "hide"):
        for product in rule.products:
            hidden.setdefault(product, rule)
    pins: dict[int, tuple[str, Rule]] = {}
    placed: set[str] = set()
    for rule in (r for r in rules if r.kind == "pin"):
        for offset, product in enumerate(rule.products):
            position = rule.position + offset
            if position not in pins and product not in placed and product not in hidden:
                pins[position] = (product, rule)
                placed.add(product)
    moves: dict[str, tuple[int, Rule]] = {}
    for rule in (r for r in rules if r.kind in ("boost", "bury")):
        for product in rule.products:
            if product not in moves and product not in placed and product not in hidden:
                moves[product] = (-rule.by if rule.kind == "boost" else rule.by, rule)
    return Plan(tuple(rules), hidden, pins, moves)


def arrange(ranked: Scored, rules: Plan, pinnable: Collection[str] = ()) -> tuple[Scored, dict[str, Rule]]:
    """`ranked` with the plan applied, and the rule that placed each moved or pinned product.

    Args:
        ranked: the candidates in answer order (for a positional plan, those that passed the filters).
        rules: the plan.
        pinnable: pinned products that passed the filters; others are not shown.

    """
    pinned = {product for product, _ in rules.pins.values()}
    organic = [(doc_id, score) for doc_id, score in ranked if doc_id not in rules.hidden and doc_id not in pinned]
    placed: dict[str, Rule] = {}
    if rules.moves:
        organic, placed = _moved(organic, rules.moves)
    scores = dict(ranked)
    out: Scored = []
    rest = iter(organic)
    for position, (product, rule) in sorted(rules.pins.items()):
        if product not in pinnable:
            continue
        while len(out) < position - 1 and (item := next(rest, None)) is not None:
            out.append(item)
        out.append((product, scores.get(product, 0.0)))
        placed[product] = rule
    out.extend(rest)
    return out, placed


def _moved(organic: Scored, moves: dict[str, tuple[int, Rule]]) -> tuple[Scored, dict[str, Rule]]:
    """Each moved product taken out and put back its places away, one after the other in precedence order."""
    ids = [doc_id for doc_id, _ in organic]
    scores = dict(organic)
    placed: dict[str, Rule] = {}
    for doc_id, (places, rule) in moves.items():
        if doc_id in scores:
            at = ids.index(doc_id)
            ids.pop(at)
            ids.insert(min(max(at + places, 0), len(ids)), doc_id)
            placed[doc_id] = rule
    return [(doc_id, scores[doc_id]) for doc_id in ids], placed

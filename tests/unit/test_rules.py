"""Merchandising rules without services: the model's 400s, matching by lookup, and what rules do to a ranking."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from search_api.core.errors import InvalidParameter
from search_api.rules.actions import arrange, plan
from search_api.rules.index import Rule, RuleIndex
from search_api.rules.model import parse_rule

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def rule(rule_id: str, query: str, match: str = "exact", kind: str = "hide", products: tuple[str, ...] = ("x",),
         **extra) -> Rule:
    return Rule.from_source({"id": rule_id, "query": query, "match": match, "kind": kind,
                             "products": list(products), **extra})


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "pin", "query": "pillow", "products": ["a"]}, "position"),
    ({"kind": "pin", "query": "pillow", "products": ["a", "b"], "position": 100}, "position"),
    ({"kind": "pin", "query": "pillow", "products": ["a"], "position": 0}, "position"),
    ({"kind": "hide", "query": "pillow", "products": ["a"], "position": 3}, "position"),
    ({"kind": "boost", "query": "the", "products": ["a"]}, "query"),
    ({"kind": "bury", "query": "pillow", "products": ["a", "a"]}, "products"),
    ({"kind": "bury", "query": "pillow", "products": []}, "products"),
    ({"kind": "hide", "query": "pillow", "products": ["a"], "active_from": "2026-01-02T00:00:00Z",
      "active_to": "2026-01-01T00:00:00Z"}, "active_to"),
    ({"kind": "hide", "query": "pillow", "products": ["a"], "active_from": "2026-01-02"}, "active_from"),
    ({"kind": "hide", "query": "pillow", "products": ["a"], "active_to": "yesterday"}, "active_to"),
    ({"kind": "zap", "query": "pillow", "products": ["a"]}, "kind"),
    ({"query": "pillow", "products": ["a"]}, "kind"),
    ({"kind": "hide", "query": "pillow", "products": ["a"], "match": "fuzzy"}, "match"),
    ({"kind": "boost", "query": "pillow", "products": ["a"], "by": 0}, "by"),
])
def test_bad_rules_name_the_field(body, field):
    with pytest.raises(InvalidParameter) as caught:
        parse_rule(body)
    assert caught.value.field == field, caught.value.message


def test_a_rule_query_is_normalised_and_boost_has_a_default():
    parsed = parse_rule({"kind": "boost", "query": "  Memory  FOAM Pillows ", "products": ["a"]})
    assert parsed.query == "memory foam pillows" and parsed.by == 10 and parsed.match == "exact"


@pytest.mark.parametrize(("query", "text", "match", "expected"), [
    ("Pillows", "pillow", "exact", True),            # case and plural: same analysis as queries
    ("the pillow", "pillow", "exact", True),         # stop words
    ("memory foam pillow", "pillow", "exact", False),
    ("memory foam pillow", "foam pillow", "phrase", True),
    ("pillow foam memory", "foam pillow", "phrase", False),
    ("pillow foam memory", "foam pillow", "contains", True),
    ("pillowcase", "pillow", "contains", False),
    ("抱枕", "抱枕", "exact", True),
    ("孕妇抱枕", "抱枕", "exact", False),
    ("孕妇抱枕", "抱枕", "phrase", True),
    ("记忆棉 枕头", "记忆棉枕头", "exact", True),      # word breaks do not matter
    ("枕头套", "头套", "phrase", True),
    ("新款枕头套装", "头套装", "contains", True),     # Chinese contains: a substring, whatever jieba says
    ("新款抱枕", "枕头", "contains", False),
])
def test_matching_in_both_languages(query, text, match, expected):
    index = RuleIndex([rule("r", text, match)])
    assert bool(index.matching(query, NOW)) is expected


def test_only_active_rules_match():
    past = {"active_from": (NOW - timedelta(days=2)).isoformat(), "active_to": (NOW - timedelta(days=1)).isoformat()}
    future = {"active_from": (NOW + timedelta(hours=1)).isoformat()}
    now = {"active_from": NOW.isoformat(), "active_to": (NOW + timedelta(seconds=1)).isoformat()}
    index = RuleIndex([rule("past", "pillow", **past), rule("future", "pillow", **future), rule("now", "pillow", **now)])
    assert [r.id for r in index.matching("pillow", NOW)] == ["now"]


def test_lookup_finds_exactly_what_a_scan_finds():
    words = ["pillow", "foam", "memory", "cover", "silk", "抱枕", "枕头", "孕妇", "记忆棉", "套"]
    rng = random.Random(5)
    rules = [rule(f"r{i}", " ".join(rng.sample(words, rng.randint(1, 3))), rng.choice(["exact", "phrase", "contains"]))
             for i in range(1000)]
    index = RuleIndex(rules)
    for _ in range(200):
        query = " ".join(rng.sample(words, rng.randint(1, 4)))
        found = index.matching(query, NOW)
        scan = [r for r in rules if r.matches(index_text(query), index_words(query))]
        assert {r.id for r in found} == {r.id for r in scan}, query
        assert found == sorted(found, key=Rule.precedence)


def index_text(query: str) -> str:
    from indexer.index_format import normalize

    return normalize(query)


def index_words(query: str) -> tuple[str, ...]:
    from indexer.index_format import tokens

    return tuple(tokens(query))


def ranked(*ids: str) -> list[tuple[str, float]]:
    return [(doc_id, 1.0 / (i + 1)) for i, doc_id in enumerate(ids)]


def test_pins_place_products_and_hide_wins():
    rules = [rule("pin", "q", kind="pin", products=("z", "c"), position=2),
             rule("hide", "q", kind="hide", products=("c", "b"))]
    out, placed = arrange(ranked("a", "b", "c", "d"), plan(rules), pinnable={"z", "c"})
    assert [d for d, _ in out] == ["a", "z", "d"]   # c is hidden although pinned; z was no candidate
    assert placed == {"z": rules[0]} and dict(out)["z"] == 0.0 and dict(out)["a"] == 1.0


def test_a_pin_not_pinnable_is_not_shown_and_past_the_end_lands_at_the_end():
    rules = [rule("p1", "q", kind="pin", products=("off",), position=1),
             rule("p2", "q", kind="pin", products=("y",), position=50)]
    out, _ = arrange(ranked("a", "b"), plan(rules), pinnable={"y"})
    assert [d for d, _ in out] == ["a", "b", "y"]


def test_pin_conflicts_resolve_by_precedence():
    low = rule("low", "q", kind="pin", products=("x",), position=1, priority=0)
    high = rule("high", "q", kind="pin", products=("y",), position=1, priority=5)
    indexed = RuleIndex([low, high]).matching("q", NOW)
    out, placed = arrange(ranked("a"), plan(indexed), pinnable={"x", "y"})
    assert [d for d, _ in out] == ["y", "a"] and placed["y"].id == "high"


def test_boost_and_bury_move_by_places():
    ids = [f"p{i}" for i in range(1, 31)]

    def moved(*rules: Rule) -> list[str]:
        return [d for d, _ in arrange(ranked(*ids), plan(rules))[0]]

    assert moved(rule("up", "q", kind="boost", products=("p15",), by=10)).index("p15") == 14 - 10
    assert moved(rule("down", "q", kind="bury", products=("p2",), by=10)).index("p2") == 1 + 10
    assert moved(rule("top", "q", kind="boost", products=("p3",), by=1000)).index("p3") == 0
    assert moved(rule("end", "q", kind="bury", products=("p3",), by=1000))[-1] == "p3"
    # one after the other: the bury of p2 (above p15) then lifts p15 one more place
    both = moved(rule("up", "q", kind="boost", products=("p15",), by=10),
                 rule("down", "q", kind="bury", products=("p2",), by=10))
    assert both.index("p15") == 3 and both.index("p2") == 11 and sorted(both) == sorted(ids)


def test_a_product_boosted_and_buried_takes_the_winners_move():
    up = rule("up", "q", kind="boost", products=("p5",), by=3, priority=1)
    down = rule("down", "q", kind="bury", products=("p5",), by=3)
    out, placed = arrange(ranked("p1", "p2", "p3", "p4", "p5"), plan(RuleIndex([down, up]).matching("q", NOW)))
    assert [d for d, _ in out].index("p5") == 1 and placed["p5"].id == "up"


def test_no_rule_leaves_the_ranking_untouched():
    before = ranked("a", "b", "c")
    out, placed = arrange(before, plan([]))
    assert out == before and placed == {}


def test_a_plan_touches_places_down_to_its_deepest_pin_or_bury():
    ids = [f"p{i}" for i in range(1, 101)]
    assert plan([rule("a", "q", kind="pin", products=("x", "y"), position=7)]).depth(ids) == 8
    assert plan([rule("b", "q", kind="boost", products=("p30",), by=5)]).depth(ids) == 30
    assert plan([rule("c", "q", kind="bury", products=("p30",), by=5)]).depth(ids) == 35
    assert plan([rule("d", "q", kind="bury", products=("absent",), by=5)]).depth(ids) == 0

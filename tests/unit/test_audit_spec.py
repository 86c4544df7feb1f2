"""Audit requests: shapes validated by the model, each error naming the field as sent."""

import pytest

from search_api.brands.audit_spec import MAX_CELLS, Persona, parse_spec
from search_api.core.errors import InvalidParameter

B = {"brands": ["b"], "keywords": ["k"]}


def resolve(i, request):
    """Stands in for audit_runs.resolve_persona (no store): takes the request as valid."""
    history = None if request.history is None else tuple(request.history)
    return Persona(request.label_at(i), user_id=request.user_id, history=history)


def test_pairs_personas_and_defaults():
    spec = parse_spec({"pairs": [{"brand": " b ", "keyword": "k"}, {"brand": "b", "keyword": "k"}],
                       "brands": "ignored when pairs are given", "top_k": 7, "name": "n",
                       "personas": [{"user_id": " u1 "}, {"history": []}, {}]}, persona=resolve)
    assert spec.pairs == (("b", "k"),) and (spec.top_k, spec.name) == (7, "n")
    assert [p.label for p in spec.personas] == ["u1", "history-1", "anonymous"]
    assert parse_spec(B, persona=resolve).personas == (Persona("anonymous"),)
    assert parse_spec({"brands": ["x", "y"], "keywords": ["k"]}, persona=resolve).cells == 2


@pytest.mark.parametrize(("body", "field"), [
    ([B], "body"), ({"keywords": ["k"]}, "brands"), ({"brands": ["b"]}, "keywords"),
    ({"brands": ["b"], "keywords": []}, "keywords"), ({"brands": ["b", " "], "keywords": ["k"]}, "brands"),
    ({"pairs": []}, "pairs"), ({"pairs": "b,k"}, "pairs"), ({"pairs": [{"brand": "b", "keyword": "k"}, {"brand": "b"}]}, "pairs[1]"),
    ({"pairs": [{"brand": "b", "keyword": "k" * 300}]}, "keywords"),
    ({**B, "top_k": 0}, "top_k"), ({**B, "top_k": 101}, "top_k"), ({**B, "top_k": True}, "top_k"),
    ({**B, "top_k": 5.5}, "top_k"), ({**B, "top_k": "5"}, "top_k"),
    ({**B, "personas": []}, "personas"), ({**B, "personas": [{}, 5]}, "personas[1]"),
    ({**B, "personas": [{"user_id": "u", "history": []}]}, "personas[0]"),
    ({**B, "personas": [{"label": "x", "userid": "u"}]}, "personas[0]"),
    ({**B, "personas": [{"label": " "}]}, "personas[0].label"), ({**B, "personas": [{"label": "x" * 101}]}, "personas[0].label"),
    ({**B, "personas": [{}, {"user_id": "u" * 101}]}, "personas[1].label"),
    ({**B, "personas": [{"user_id": ""}]}, "personas[0].user_id"), ({**B, "personas": [{"user_id": 5}]}, "personas[0].user_id"),
    ({**B, "personas": [{"label": "a"}, {"user_id": "a"}]}, "personas"),
    ({**B, "name": None}, "name"), ({**B, "name": "n" * 201}, "name"),
    ({"brands": [str(i) for i in range(200)], "keywords": [str(i) for i in range(MAX_CELLS // 200 + 1)]}, "pairs"),
])
def test_bad_requests_name_the_field(body, field):
    with pytest.raises(InvalidParameter) as info:
        parse_spec(body, persona=resolve)
    assert info.value.field == field
    assert "Input should" not in info.value.message


def test_what_the_contract_calls_valid_is_accepted():
    # found by the fuzzer: JSON Schema's integer includes 5.0, and a persona may spell absent fields as null
    assert parse_spec({**B, "top_k": 5.0}, persona=resolve).top_k == 5
    spec = parse_spec({**B, "personas": [{"label": "x", "user_id": None, "history": None}, {"user_id": None}]},
                      persona=resolve)
    assert spec.personas == (Persona("x"), Persona("anonymous"))


def test_messages_read_as_sentences():
    with pytest.raises(InvalidParameter, match=r"^pairs\[1\] needs a non-empty brand and keyword$"):
        parse_spec({"pairs": [{"brand": "b", "keyword": "k"}, {"brand": "b"}]}, persona=resolve)
    with pytest.raises(InvalidParameter, match=r"^label must be at most 100 characters$"):
        parse_spec({**B, "personas": [{"label": "x" * 101}]}, persona=resolve)

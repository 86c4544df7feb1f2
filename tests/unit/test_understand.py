"""Query understanding (pure): each kind recognised in Chinese and English, price expressions, boosts."""

from __future__ import annotations

import threading

import pytest

from search_api.understand.boosts import boost_clauses, demotion, matched_parts
from search_api.understand.catalog import brand_terms, color_targets
from search_api.understand.lexicon import lexicon_terms
from search_api.understand.price import PriceWish, find_price
from search_api.understand.recognise import Vocabulary, understand


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    lexicon = lexicon_terms()
    terms, targets = brand_terms(["棉语", "UGG", "Blue", "humane", "X"], {"棉语": ["Mianyu"]})
    return Vocabulary((*terms, *lexicon), {**targets, **color_targets(["黑色", "Black/White", "白色"], lexicon)},
                      median_price=120.0)


def _parts(q: str, vocabulary: Vocabulary) -> set[tuple[str, str]]:
    return {(p.kind, p.value) for p in understand(q, vocabulary).parts}


@pytest.mark.parametrize(("q", "expected"), [
    ("棉语抱枕", ("brand", "棉语")), ("Mianyu pillow", ("brand", "棉语")), ("ugg slippers", ("brand", "UGG")),
    ("黑色卫衣", ("color", "black")), ("黑卫衣", ("color", "black")), ("black hoodie", ("color", "black")),
    ("卫衣 XL", ("size", "XL")), ("L码 卫衣", ("size", "L")), ("tank top plus size", ("size", "plus")),
    ("大码连衣裙", ("size", "plus")),
    ("女士 连衣裙", ("gender", "female")), ("women's office shoes", ("gender", "female")),
    ("男款卫衣", ("gender", "male")), ("mens slippers", ("gender", "male")),
    ("儿童保温杯", ("age", "kids")), ("toddler water bottle", ("age", "kids")), ("宝宝 枕头", ("age", "baby")),
    ("真丝 四件套", ("material", "silk")), ("silk pillowcase", ("material", "silk")),
    ("记忆棉枕头", ("material", "memory foam")), ("memory foam pillow", ("material", "memory foam")),
])
def test_each_kind_is_recognised_in_both_languages(vocabulary, q, expected):
    assert expected in _parts(q, vocabulary)


@pytest.mark.parametrize(("q", "wish", "rest"), [
    ("hoodie under 50", PriceWish(high=50), "hoodie"), ("below $30 silk pillowcase", PriceWish(high=30), "silk pillowcase"),
    ("100元以内的蓝牙耳机", PriceWish(high=100), "的蓝牙耳机"), ("卫衣 50元以下", PriceWish(high=50), "卫衣"),
    ("口红 不超过200", PriceWish(high=200), "口红"), ("耳机 300元以上", PriceWish(low=300), "耳机"),
    ("headphones over $100", PriceWish(low=100), "headphones"), ("50-100元 口红", PriceWish(50, 100), "口红"),
    ("earbuds between 20 and 40 dollars", PriceWish(20, 40), "earbuds"),
    ("便宜 四件套", PriceWish(cheap=True), "四件套"), ("cheap pillow", PriceWish(cheap=True), "pillow"),
])
def test_price_expressions_become_a_wish_and_leave_the_words(vocabulary, q, wish, rest):
    u = understand(q, vocabulary)
    assert u.price == wish and u.text == rest
    assert u.parts[-1].kind == "price" and u.parts[-1].value == wish.value


@pytest.mark.parametrize("q", ["potassium citrate 200mg", "1/2 inch binder", "fitbit charge 3", "iphone 13 case"])
def test_a_bare_number_is_not_a_price(q):
    assert find_price(q) is None


def test_a_query_that_is_only_a_price_word_is_still_searched(vocabulary):
    u = understand("便宜", vocabulary)
    assert u.text == "便宜" and u.price == PriceWish(cheap=True)


@pytest.mark.parametrize(("q", "excluded", "rest"), [
    ("toddler water bottle without straw", ["straw"], "toddler water bottle"),
    ("mens bathing suits without mesh liner", ["mesh liner"], "mens bathing suits"),
    ("knife set w/o block", ["block"], "knife set"),
    ("toddler water bottle withuot straw", ["straw"], "toddler water bottle"),  # one edit: a swap
    ("knife set witout block", ["block"], "knife set"), ("knife set wihtout block", ["block"], "knife set"),
    ("hoodie under 50 without zipper", ["zipper"], "hoodie"),
    ("抱枕不含芯", ["芯"], "抱枕"), ("不带盖的保温杯", ["盖"], "保温杯"), ("四件套 不要印花", ["印花"], "四件套"),
])
def test_an_exclusion_leaves_the_words_searched_and_is_never_a_boost(vocabulary, q, excluded, rest):
    u = understand(q, vocabulary)
    assert u.text == rest and [p.value for p in u.parts if p.kind == "exclude"] == excluded
    assert all(c["constant_score"]["_name"] != f"understood:{i}" for i, p in enumerate(u.parts)
               if p.kind == "exclude" for c in boost_clauses(u) if "constant_score" in c)
    assert len(boost_clauses(u)) == sum(p.kind != "exclude" for p in u.parts)


def test_an_exclusion_demotes_titles_naming_it_unless_they_say_they_lack_it(vocabulary):
    clause = demotion(understand("knife sets without block", vocabulary))
    assert clause is not None
    assert clause["bool"]["should"] == [{"match": {"title_tokens": {"query": "block", "operator": "and"}}}]
    assert {"match_phrase": {"title_tokens": "without block"}} in clause["bool"]["must_not"]
    assert {"match_phrase": {"title_tokens": "block free"}} in clause["bool"]["must_not"]
    assert demotion(understand("knife sets", vocabulary)) is None


@pytest.mark.parametrize("q", ["no show socks", "within reach", "withering heights", "无线耳机", "the one for whom food is not enough", "without", "无需"])
def test_words_that_only_look_like_an_exclusion_are_searched_as_typed(vocabulary, q):
    u = understand(q, vocabulary)
    assert u.text == q and not [p for p in u.parts if p.kind == "exclude"]


def test_brands_count_only_as_written_and_colours_come_first(vocabulary):
    assert ("brand", "humane") not in _parts("marvel against humanity", vocabulary)  # stems meet, words do not
    assert _parts("blue suit", vocabulary) == {("color", "blue")}  # the colour, not the brand Blue
    assert ("brand", "X") not in _parts("x large", vocabulary)  # one-letter brands are never recognised
    assert ("material", "glass") not in _parts("white shades glasses", vocabulary)


def test_nothing_recognised_means_no_boosts(vocabulary):
    u = understand("Throw Pillow", vocabulary)
    assert u.parts == () and u.text == "Throw Pillow" and boost_clauses(u) == []  # searched as typed
    assert understand("Black Dress", vocabulary).text == "Black Dress"


def test_boosts_name_their_part_and_target_the_catalogs_values(vocabulary):
    u = understand("black ugg slippers under 80", vocabulary)
    assert [p.kind for p in u.parts] == ["brand", "color", "price"]
    clauses = boost_clauses(u)
    assert [c[next(iter(c))]["_name"] for c in clauses] == ["understood:0", "understood:1", "understood:2"]
    color = clauses[1]["constant_score"]["filter"]["bool"]["should"]
    assert {"terms": {"color": ["黑色", "Black/White"]}} in color  # both languages' catalog values
    assert clauses[2]["constant_score"]["filter"] == {"range": {"price": {"lte": 80.0}}}
    assert matched_parts(["understood:2", "all_terms", "understood:0"]) == (0, 2)


def test_cheap_decays_with_price_from_the_catalogs_median(vocabulary):
    (clause,) = boost_clauses(understand("cheap pillow", vocabulary))
    decay = clause["function_score"]["functions"][0]["exp"]["price"]
    assert decay == {"origin": 0, "scale": 120.0, "decay": 0.5}
    assert boost_clauses(understand("cheap pillow", Vocabulary(lexicon_terms()))) == []  # no catalog: no reference


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_store_reads_each_live_version_once_and_keeps_the_last_good_one():
    from indexer.index_format import EngineError
    from search_api.understand.store import RETRY_S, UnderstandStore

    reads: list[str] = []
    failing = {"v3"}
    gate = threading.Event()

    def reader(version: str) -> Vocabulary:
        reads.append(version)
        if version == "v2":
            assert gate.wait(5)
        if version in failing:
            raise EngineError("down")
        return Vocabulary((*lexicon_terms(), *brand_terms([f"brand{version}"], {})[0]))

    clock = Clock()
    store = UnderstandStore(reader, clock=clock)
    assert {p.value for p in store.understand("brandv1 pillow", "v1").parts} == {"brandv1"}  # the first read: now
    store.understand("x", "v1")
    assert reads == ["v1"]
    assert store.understand("brandv2 pillow", "v2").parts == ()  # a new version: read in the background
    gate.set()
    store.wait(5)
    assert {p.value for p in store.understand("brandv2 pillow", "v2").parts} == {"brandv2"}
    store.understand("x", "v3")
    store.wait(5)
    store.understand("x", "v3")  # failed: not retried before RETRY_S, the v2 vocabulary stays
    assert reads == ["v1", "v2", "v3"] and store.understand("brandv2", "v3").parts
    clock.now += RETRY_S
    failing.clear()
    store.understand("x", "v3")
    store.wait(5)
    assert reads[-1] == "v3" and store.understand("brandv3 pillow", "v3").parts


def test_the_understand_parameter_turns_it_off_per_request():
    from search_api.core.errors import InvalidParameter
    from search_api.retrieval.params import parse_search

    assert parse_search({"q": "black dress"}).understand is None  # the setting decides
    assert parse_search({"q": "black dress", "understand": "false"}).understand is False
    assert parse_search({"q": "black dress", "understand": True}).understand is True
    with pytest.raises(InvalidParameter):
        parse_search({"q": "black dress", "understand": "maybe"})

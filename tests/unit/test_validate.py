from datetime import UTC, datetime

import pytest

from indexer.catalog.validate import FieldError, brand_keyword_from_row, product_from_row


def test_bare_catalog_row_is_enough():
    p = product_from_row({"id": 17, "title": "Memory foam pillow"})
    assert (p.id, p.title, p.title_lang, p.title_en) == ("17", "Memory foam pillow", "en", "Memory foam pillow")


def test_chinese_title_with_english_title():
    p = product_from_row({"id": "P1", "title": "孕妇抱枕", "title_en": "Pregnancy pillow",
                          "category": "母婴 > 孕产用品 > 孕妇枕", "price": "59.0"})
    assert p.title_lang == "zh" and p.title_zh == "孕妇抱枕" and p.title_en == "Pregnancy pillow"
    assert p.category == ("母婴", "孕产用品", "孕妇枕")
    assert p.price == 59.0


def test_esci_shaped_row_keeps_unknown_fields():
    row = {"id": "B07", "title": "Pillow", "bullet_points": ["soft", "cool"], "is_book": False,
           "rating_count": 12, "category": [], "price": None}
    p = product_from_row(row)
    assert p.bullets == ("soft", "cool") and p.extra == {"is_book": False} and p.price is None


@pytest.mark.parametrize(("row", "field"), [
    ({"title": "x"}, "id"),
    ({"id": "1"}, "title"),
    ({"id": "1", "title": "  "}, "title"),
    ({"id": "1", "title": "x", "price": -1}, "price"),
    ({"id": "1", "title": "x", "price": "cheap"}, "price"),
    ({"id": "1", "title": "x", "price": True}, "price"),
    ({"id": "1", "title": "x", "sales": 1.5}, "sales"),
    ({"id": "1", "title": "x", "rating": 7}, "rating"),
    ({"id": "1", "title": ["x"]}, "title"),
    ({"id": "1", "title": "x", "category": {"a": 1}}, "category"),
    ({"id": "1", "title": "x", "attributes": "red"}, "attributes"),
    ({"id": "1", "title": "x", "attributes": {"size": {"w": 1}}}, "attributes"),
    ({"id": "1", "title": "x", "status": "lost"}, "status"),
    ({"id": "1", "title": "x", "updated_at": "yesterday"}, "updated_at"),
    ({"id": "x" * 600, "title": "x"}, "id"),
    ({"id": "é" * 300, "title": "x"}, "id"),
])
def test_bad_rows_name_the_field(row, field):
    with pytest.raises(FieldError) as info:
        product_from_row(row)
    assert info.value.field == field


def test_brand_keyword_defaults_and_errors():
    kw = brand_keyword_from_row({"keyword": "抱枕", "brand": "棉语", "landing": {"categories": ["抱枕"]}})
    assert kw.match == "phrase" and kw.id == "棉语:抱枕" and kw.landing_categories == ("抱枕",)
    with pytest.raises(FieldError) as info:
        brand_keyword_from_row({"keyword": "抱枕", "brand": "b", "match": "fuzzy"})
    assert info.value.field == "match"
    with pytest.raises(FieldError) as info:
        brand_keyword_from_row({"keyword": "抱枕", "brand": "b", "active_from": "2026-02-01",
                                "active_to": "2026-01-01"})
    assert info.value.field == "active_to"


@pytest.mark.parametrize(("row", "field", "reason"), [
    ({"title": "x"}, "id", "is required"),
    ({"id": "1", "title": "  "}, "title", "is required"),
    ({"id": "1", "title": ["x"]}, "title", "must be text, got list"),
    ({"id": "1", "title": "x" * 2001}, "title", "is longer than 2000 characters"),
    ({"id": "é" * 300, "title": "x"}, "id", "is longer than 512 bytes in UTF-8"),
    ({"id": "1", "title": "x", "title_en": ["x"]}, "title_en", "must be text, got list"),
    ({"id": "1", "title": "x", "price": "cheap"}, "price", "must be a number, got 'cheap'"),
    ({"id": "1", "title": "x", "price": "  "}, "price", "must be a number, got '  '"),
    ({"id": "1", "title": "x", "price": True}, "price", "must be a number, got a boolean"),
    ({"id": "1", "title": "x", "price": b"1"}, "price", "must be a number, got bytes"),
    ({"id": "1", "title": "x", "price": "nan"}, "price", "must be a finite number"),
    ({"id": "1", "title": "x", "price": -1}, "price", "must be between 0 and 1e+09, got -1"),
    ({"id": "1", "title": "x", "rating": "7"}, "rating", "must be between 0 and 5, got 7"),
    ({"id": "1", "title": "x", "sales": 1.5}, "sales", "must be a whole number, got 1.5"),
    ({"id": "1", "title": "x", "sales": "1.5"}, "sales", "must be a whole number, got 1.5"),
    ({"id": "1", "title": "x", "category": {"a": 1}}, "category", "must be a list of text, got dict"),
    ({"id": "1", "title": "x", "bullet_points": ["ok", None]}, "bullet_points", "must be a list of text, found NoneType"),
    ({"id": "1", "title": "x", "attributes": "red"}, "attributes", "must be an object, got str"),
    ({"id": "1", "title": "x", "attributes": {"size": {"w": 1}}}, "attributes", "size: nested objects are not supported"),
    ({"id": "1", "title": "x", "attributes": {"made": datetime(2020, 1, 1)}}, "attributes.made",
     "unsupported value type datetime"),
    ({"id": "1", "title": "x", "status": "Lost"}, "status",
     "must be one of on_sale, sold_out, off_shelf, deleted, got 'lost'"),
    ({"id": "1", "title": "x", "updated_at": "yesterday"}, "updated_at", "must be an ISO-8601 time, got 'yesterday'"),
    ({"id": "1", "title": "x", "updated_at": float("nan")}, "updated_at", "must be a time, got nan"),
    ({"id": "1", "title": "x", "made": datetime(2020, 1, 1)}, "made", "unsupported value type datetime"),
])
def test_rejects_name_the_field_and_say_why(row, field, reason):
    with pytest.raises(FieldError) as info:
        product_from_row(row)
    assert (info.value.field, info.value.reason) == (field, reason)


def test_csv_text_and_absent_values():
    p = product_from_row({"id": "7", "title": " Pillow ", "title_zh": "  ", "brand": "   ", "sales": "1e3",
                          "rating_count": "12.0", "price": "", "status": "SOLD_OUT", "attributes": [],
                          "category": "home / bedding |pillows", "updated_at": "2026-01-02T03:04:05Z",
                          "bullet_points": "soft", "bullets": ["", " cool "], "note": ""})
    assert (p.title, p.titles, p.brand, p.price, p.status, p.attributes) == ("Pillow", {}, None, None, "sold_out", {})
    assert (p.sales, p.rating_count) == (1000, 12) and type(p.sales) is int and type(p.rating_count) is int
    assert p.category == ("home", "bedding", "pillows") and p.bullets == ("soft", "cool")
    assert p.updated_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) and p.extra == {"note": ""}


def test_numbers_keep_their_types():
    """orjson digests products for rebuilds (`documents.source_hash`): 3 and 3.0 must not swap."""
    p = product_from_row({"id": "1", "title": "x", "price": 59, "rating": 4, "sales": 3.0, "rating_count": "8"})
    assert [type(v) for v in (p.price, p.rating, p.sales, p.rating_count)] == [float, float, int, int]


def test_brand_keyword_rejects_name_the_field():
    cases = [
        ({"keyword": "k", "brand": "b", "landing": "x"}, "landing", "must be an object with `products` and/or `categories`"),
        ({"keyword": "k", "brand": "b", "landing": {"products": [["p"]]}}, "products", "must be a list of text, found list"),
        ({"keyword": "k", "brand": "b", "priority": 2e6}, "priority", "must be between -1e+06 and 1e+06, got 2e+06"),
        ({"keyword": "k" * 101, "brand": "b"}, "keyword", "is longer than 100 characters"),
        ({"keyword": "k", "brand": "b", "active_from": 1_767_225_600_000, "active_to": "2026-01-01T00:00:00Z"},
         "active_to", "must be after active_from"),
    ]
    for row, field, reason in cases:
        with pytest.raises(FieldError) as info:
            brand_keyword_from_row(row)
        assert (info.value.field, info.value.reason) == (field, reason)


def test_brand_keyword_landing_and_ids():
    kw = brand_keyword_from_row({"keyword": " Pillow ", "brand": "Cotton Talk", "brand_id": " ", "priority": "3",
                                 "match": "EXACT", "landing": {"products": "p1"}, "landing_products": ["p2"],
                                 "unknown": 1})
    assert (kw.keyword, kw.brand_id, kw.priority, kw.match) == ("Pillow", "cotton talk", 3, "exact")
    assert kw.landing_products == ("p1", "p2") and kw.id == "cotton talk:pillow"

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

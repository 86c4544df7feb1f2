"""The one translation of pydantic errors into the API's: field paths as sent, human messages."""

from typing import Annotated

import pytest
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, model_validator

from search_api.core.errors import InvalidEvents, InvalidParameter
from search_api.core.validation import path, problem, validate, validate_events


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=5)
    count: int = Field(1, ge=1, le=9)


class Body(BaseModel):
    items: list[Item] = Field(min_length=1)
    start: int = Field(0, alias="from", ge=0)
    stop: int = 10

    @model_validator(mode="after")
    def _ordered(self) -> "Body":
        if self.start > self.stop:
            raise problem("must not be after stop", "from")
        return self


def _refuse_long(value):
    if isinstance(value, list) and len(value) > 2:
        raise problem(f"takes at most 2 items, got {len(value)}")
    return value


BATCH = TypeAdapter(Annotated[list[Item], BeforeValidator(_refuse_long)])


def test_paths_follow_what_was_sent():
    assert path(("personas", 0, "label"), "body") == "personas[0].label"
    assert path((3, "ts"), "body") == "[3].ts" and path((), "body") == "body"


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"items": []}, "items", "items must not be empty"),
    ({"items": [{"name": ""}]}, "items[0].name", "name must not be empty"),
    ({"items": [{"name": "abcdef"}]}, "items[0].name", "name must be at most 5 characters"),
    ({"items": [{"name": "a", "count": 10}]}, "items[0].count", "count must be at most 9"),
    ({"items": [{"name": "a", "count": "x"}]}, "items[0].count", "count must be an integer"),
    ({"items": [{"name": "a", "colour": "red"}]}, "items[0].colour", "unknown field 'colour'"),
    ({"items": [{}]}, "items[0].name", "name is required"),
    ({"items": [5]}, "items[0]", "items[0] must be an object"),
    ({"items": [{"name": "a"}], "from": -1}, "from", "from must be at least 0"),
    ({"items": [{"name": "a"}], "from": 11}, "from", "from must not be after stop"),
    ([1], "body", "body must be an object"),
])
def test_first_error_names_the_field_in_a_sentence(data, field, message):
    with pytest.raises(InvalidParameter) as info:
        validate(Body, data)
    assert (info.value.field, info.value.message) == (field, message)


def test_a_batch_reports_each_bad_item_once_unknown_fields_first():
    with pytest.raises(InvalidEvents) as info:
        validate_events(BATCH, [{"name": "", "colour": 1}, "x"], root="body", within="history")
    assert info.value.body()["error"]["rejected"] == [
        {"index": 0, "field": "history[0].colour", "message": "unknown field 'colour'"},
        {"index": 1, "field": "history[1].event", "message": "each event must be a JSON object"}]


def test_a_batch_error_about_the_list_itself_names_the_root():
    with pytest.raises(InvalidParameter) as info:
        validate_events(BATCH, [{"name": "a"}] * 3, root="history")
    assert not isinstance(info.value, InvalidEvents)
    assert (info.value.field, info.value.message) == ("history", "history takes at most 2 items, got 3")

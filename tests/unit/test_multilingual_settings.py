"""The multilingual model's defaults: what it reads and its semantic floor, unless chosen."""

from __future__ import annotations

import pytest

from indexer.core.config import MULTILINGUAL_MODEL, Settings
from indexer.core.errors import ConfigError
from search_api.core.settings import FLOOR, MULTILINGUAL_FLOOR, ApiSettings


def test_the_english_default_is_unchanged():
    settings = ApiSettings()
    assert settings.model_languages == ("en",) and settings.semantic_floor == FLOOR


@pytest.mark.parametrize("settings", [
    ApiSettings(model=MULTILINGUAL_MODEL),
    ApiSettings().with_(model=MULTILINGUAL_MODEL),  # MiniLM's defaults carried over count as unchosen
    ApiSettings.from_env({"STORESEARCH_MODEL": MULTILINGUAL_MODEL}),
])
def test_the_multilingual_model_reads_everything_at_its_own_floor(settings):
    assert settings.model_languages == ("*",) and settings.semantic_floor == MULTILINGUAL_FLOOR


def test_chosen_values_stand():
    settings = ApiSettings.from_env({"STORESEARCH_MODEL": MULTILINGUAL_MODEL, "STORESEARCH_MODEL_LANGUAGES": "en,zh",
                                     "STORESEARCH_SEMANTIC_FLOOR": "0.25"})
    assert settings.model_languages == ("en", "zh") and settings.semantic_floor == 0.25
    assert Settings(model=MULTILINGUAL_MODEL, model_languages=("zh",)).model_languages == ("zh",)


def test_a_bad_floor_still_names_its_variable():
    with pytest.raises(ConfigError, match="STORESEARCH_SEMANTIC_FLOOR"):
        ApiSettings.from_env({"STORESEARCH_MODEL": MULTILINGUAL_MODEL, "STORESEARCH_SEMANTIC_FLOOR": "x"})

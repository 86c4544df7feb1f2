import numpy as np
import pytest

from indexer.core.errors import ConfigError
from indexer.embedding.blob_store import LOOKUP_CHUNK
from indexer.embedding.embed_cache import EmbeddingCache, embed_cached
from tests.fakes import HashEmbedder


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(dims=16)
        self.encoded: list[str] = []

    def embed_documents(self, texts):
        self.encoded.extend(texts)
        return super().embed_documents(texts)


def test_second_pass_encodes_nothing_and_is_bit_identical(tmp_path):
    model = CountingEmbedder()
    texts = [f"memory foam pillow {i}" for i in range(LOOKUP_CHUNK + 50)]  # spans two lookup chunks
    cache = EmbeddingCache(tmp_path / "c.sqlite", model.fingerprint, model.dims)
    first = embed_cached(model, cache, texts)
    assert len(model.encoded) == len(texts) and cache.misses == len(texts)
    cache.close()

    reopened = EmbeddingCache(tmp_path / "c.sqlite", model.fingerprint, model.dims)
    model.encoded.clear()
    again = embed_cached(model, reopened, [*texts, "a new pillow"])
    assert model.encoded == ["a new pillow"]
    assert reopened.hits == len(texts) and reopened.misses == 1
    assert again[:-1].tobytes() == first.tobytes()
    assert np.allclose(again[-1], model.embed_documents(["a new pillow"])[0])


def test_another_model_does_not_see_the_vectors(tmp_path):
    model = CountingEmbedder()
    cache = EmbeddingCache(tmp_path / "c.sqlite", model.fingerprint, model.dims)
    embed_cached(model, cache, ["pillow"])
    other = EmbeddingCache(tmp_path / "c.sqlite", "another-model:1", model.dims)
    _, missing = other.lookup(["pillow"])
    assert missing == [0]


def test_unusable_cache_file_is_a_config_error(tmp_path):
    (tmp_path / "c.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(ConfigError, match="cannot open cache"):
        EmbeddingCache(tmp_path / "c.sqlite", "m", 4)

"""USE multilingual v3 from its packaged weights: the `Embedder` contract and a shared zh/en space."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.core.config import MULTILINGUAL_MODEL, Settings
from indexer.embedding.encoders import load_embedder
from indexer.embedding.use_embedder import UseEmbedder


@pytest.fixture(scope="module")
def use() -> UseEmbedder:
    embedder = load_embedder(Settings(model=MULTILINGUAL_MODEL), threads=1)
    assert isinstance(embedder, UseEmbedder)
    return embedder


def test_it_keeps_the_embedder_contract(use):
    assert use.model_id == MULTILINGUAL_MODEL and use.dims == 512 and use.fingerprint.startswith(MULTILINGUAL_MODEL)
    matrix = use.embed_documents(["蓝牙耳机", "wireless earbuds", "保温杯"])
    assert matrix.shape == (3, 512) and matrix.dtype == np.float32
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    assert use.embed_documents([]).shape == (0, 512)
    query = use.embed_query("蓝牙耳机")
    assert not query.flags.writeable and np.allclose(query, matrix[0], atol=1e-5)


def test_it_reads_chinese_in_the_same_space_as_english(use):
    assert use.readable("抱枕") == "抱枕"
    zh, en, other = use.embed_documents(["蓝牙耳机", "bluetooth headphones", "insulated water bottle"])
    assert zh @ en > 0.6 and zh @ other < 0.3

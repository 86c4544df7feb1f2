from datetime import UTC, datetime

import numpy as np

from indexer.build.analysis_cache import AnalysisCache
from indexer.build.documents_step import ProductDocuments
from indexer.build.product_load import Contents
from indexer.catalog.validate import product_from_row
from indexer.embedding.embed_cache import EmbeddingCache
from indexer.format.documents import analysed_text, product_doc
from indexer.store.changelog import Change
from tests.fakes import HashEmbedder

TEMPLATE = "{title_en}. {title}. {brand}"
NOW = datetime(2024, 5, 1, tzinfo=UTC)
PRODUCTS = [
    product_from_row({"id": "p1", "title": "Memory foam pillow", "brand": "Dreamy"}),
    product_from_row({"id": "p2", "title": "孕妇抱枕"}),  # nothing the English-only fake can read
    product_from_row({"id": "p3", "title": "Wireless earbuds", "description": "long battery life"}),
]


def test_documents_are_product_docs_with_each_rows_vector():
    model = HashEmbedder(dims=16)
    step = ProductDocuments(model, TEMPLATE)
    embedded = step.embed(PRODUCTS)
    assert embedded.readable == [0, 2] and embedded.vector_ids == ["p1", "p3"]
    docs = step.documents(embedded, step.analyse(PRODUCTS), NOW, 7).docs()
    # what an upsert wrote before the step was shared: product_doc rounding each row itself
    expected = [(p.id, product_doc(p, embedded.vectors[row] if row is not None else None, NOW, 7))
                for p, row in zip(PRODUCTS, [0, None, 1], strict=True)]
    assert docs == expected
    assert "embedding" not in docs[1][1] and docs[1][1]["has_vector"] is False
    assert docs[0][1]["seq"] == 7 and len(docs[2][1]["embedding"]) == 16


def test_chunks_of_a_batch_are_its_documents_in_order():
    step = ProductDocuments(HashEmbedder(dims=8), TEMPLATE)
    ready = step.documents(step.embed(PRODUCTS), step.analyse(PRODUCTS), NOW, 1)
    assert ready.docs(range(0, 2)) + ready.docs(range(2, 3)) == ready.docs()


def test_cached_step_encodes_only_unseen_texts_and_says_when(tmp_path):
    model = HashEmbedder(dims=16)
    embeddings = EmbeddingCache(tmp_path / "e.sqlite", model.fingerprint, model.dims)
    analysis = AnalysisCache(tmp_path / "a.sqlite")
    quieted: list[int] = []
    with ProductDocuments(model, TEMPLATE, embeddings, analysis) as step:
        first = step.embed(PRODUCTS[:1], before_encoding=lambda: quieted.append(1))
        again = step.embed(PRODUCTS, before_encoding=lambda: quieted.append(2))
        cached = step.embed(PRODUCTS, before_encoding=lambda: quieted.append(3))
        assert quieted == [1, 2]  # the writer is quieted only when the model must run
        assert (step.cache_hits, step.cache_misses) == (1 + 2, 1 + 1)
        assert again.vectors[0].tobytes() == first.vectors[0].tobytes() == cached.vectors[0].tobytes()
        assert step.analyse(PRODUCTS) == [analysed_text(p) for p in PRODUCTS] and analysis.hits == 0
        assert step.analyse(PRODUCTS) == [analysed_text(p) for p in PRODUCTS] and analysis.hits == 3


def test_replayed_changes_fold_into_the_contents_later_ones_winning():
    contents = Contents({"a", "b", "c"}, ["a", "b"], np.eye(2, dtype=np.float32))
    new = np.array([0.5, 0.5], dtype=np.float32)
    folded = contents.with_changes([
        Change("b", 5, None, True),  # deleted
        Change("d", 6, new, False),  # added
        Change("a", 7, None, True), Change("a", 8, new * 2, False),  # deleted, then written again
    ])
    assert folded.ids == {"a", "c", "d"}
    assert folded.vector_ids == ["d", "a"]
    assert np.array_equal(folded.matrix, np.vstack([new, new * 2]))
    assert contents.ids == {"a", "b", "c"} and contents.vector_ids == ["a", "b"]  # unchanged
    assert contents.with_changes([]) is contents

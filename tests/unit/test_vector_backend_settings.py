"""The vector backend settings and the products mapping each backend builds (no services)."""

from __future__ import annotations

import pytest

from indexer.core.errors import ConfigError
from indexer.format import mappings
from search_api.core.settings import ApiSettings
from search_api.retrieval.knn import EsKnn, cosine


def test_backend_settings_come_from_the_environment_and_name_a_bad_value():
    s = ApiSettings.from_env({"STORESEARCH_VECTOR_BACKEND": "elasticsearch", "STORESEARCH_KNN_INDEX": "int8_hnsw",
                              "STORESEARCH_KNN_CANDIDATES_FACTOR": "3"})
    assert (s.vector_backend, s.knn_index, s.knn_candidates_factor) == ("elasticsearch", "int8_hnsw", 3.0)
    assert ApiSettings.from_env({}).vector_backend == "faiss"
    with pytest.raises(ConfigError, match="STORESEARCH_VECTOR_BACKEND"):
        ApiSettings.from_env({"STORESEARCH_VECTOR_BACKEND": "milvus"})


@pytest.mark.parametrize("kind", ["hnsw", "int8_hnsw"])
def test_knn_mapping_indexes_the_vector_and_faiss_keeps_doc_values_only(kind):
    faiss = mappings.products(ApiSettings(), dims=384)["mappings"]["properties"]["embedding"]
    assert faiss == {"type": "dense_vector", "dims": 384, "index": False}
    knn = mappings.products(ApiSettings(vector_backend="elasticsearch", knn_index=kind), dims=384)
    assert knn["mappings"]["properties"]["embedding"] == {
        "type": "dense_vector", "dims": 384, "index": True, "similarity": "cosine", "index_options": {"type": kind}}


def test_num_candidates_and_cosines():
    knn = EsKnn(lambda: None, "i", candidates_factor=2.0)  # type: ignore[arg-type,return-value]
    assert knn.num_candidates(100) == 200 and knn.num_candidates(9000) == 10_000
    assert cosine(1.0) == 1.0 and cosine(0.5) == 0.0 and cosine(0.65) == pytest.approx(0.3)

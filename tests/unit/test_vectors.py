import numpy as np
import pytest

from indexer.core.errors import SnapshotError
from indexer.format.vectors import EXACT_MAX, VectorIndex


def _unit(rng, n, d=32):
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_exact_index_roundtrip(tmp_path):
    rng = np.random.default_rng(1)
    vectors = _unit(rng, 50)
    ids = [f"p{i}" for i in range(50)]
    index = VectorIndex.build(ids, vectors, version="v1", model="m")
    top = index.search(vectors[7], 3)
    assert top[0][0] == "p7" and top[0][1] == pytest.approx(1.0, abs=1e-5)
    loaded = VectorIndex.load(index.save(tmp_path / "v1"), expect_model="m")
    assert loaded.ids == ids and loaded.manifest.factory == "IDMap2,Flat" and loaded.manifest.count == 50
    assert loaded.search(vectors[7], 3) == top
    assert np.allclose(loaded.vector("p3"), vectors[3])
    with pytest.raises(SnapshotError, match="built with model"):
        VectorIndex.load(tmp_path / "v1", expect_model="other")


def _clustered(rng, n, clusters, d=32):
    """Unit vectors around a few centres, like product embeddings of a catalog."""
    vectors = _unit(rng, clusters, d)[rng.integers(0, clusters, n)] + 0.1 * rng.standard_normal((n, d)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_ivf_recall_against_exact_search():
    rng = np.random.default_rng(2)
    n = EXACT_MAX + 5000
    vectors = _clustered(rng, n, 200)
    ids = [str(i) for i in range(n)]
    approx = VectorIndex.build(ids, vectors, version="v", model="m")
    assert approx.manifest.factory.startswith("IVF")
    # queries near the data, as real queries are; uniform random ones sit far from every cluster
    queries = vectors[rng.integers(0, n, 50)] + 0.1 * rng.standard_normal((50, 32)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact_scores = queries @ vectors.T
    recall = []
    for q, scores in zip(queries, exact_scores, strict=True):
        truth = {str(i) for i in np.argsort(-scores)[:100]}
        got = {doc for doc, _ in approx.search(q, 100)}
        recall.append(len(truth & got) / 100)
    assert np.mean(recall) >= 0.9
    assert np.allclose(approx.vector("123"), vectors[123])


def test_bad_snapshots_are_refused(tmp_path):
    with pytest.raises(SnapshotError, match="no vector snapshot"):
        VectorIndex.load(tmp_path / "missing")
    with pytest.raises(SnapshotError, match="duplicate"):
        VectorIndex.build(["a", "a"], np.zeros((2, 4), np.float32), version="v", model="m")
    index = VectorIndex.build(["a"], np.ones((1, 4), np.float32) / 2, version="v", model="m")
    path = index.save(tmp_path / "v")
    (path / "ids.json").write_text('["a", "b"]')
    with pytest.raises(SnapshotError, match="inconsistent"):
        VectorIndex.load(path)


def test_reused_centroids_skip_training_and_keep_recall():
    rng = np.random.default_rng(3)
    n = EXACT_MAX + 3000
    vectors = _clustered(rng, n, 150)
    ids = [str(i) for i in range(n)]
    first = VectorIndex.build(ids, vectors, version="v1", model="m")
    seeded = VectorIndex.build(ids, vectors, version="v2", model="m", centroids=first.centroids())
    assert np.array_equal(seeded.centroids(), first.centroids())
    for q in vectors[rng.integers(0, n, 20)]:
        assert [h[0] for h in seeded.search(q, 10)] == [h[0] for h in first.search(q, 10)]
    # centroids of another shape are ignored: the index is trained afresh
    fresh = VectorIndex.build(ids[:-2000], vectors[:-2000], version="v3", model="m", centroids=first.centroids())
    assert fresh.centroids().shape[0] != first.centroids().shape[0]


@pytest.mark.parametrize("n", [50, EXACT_MAX + 1])
def test_batch_vectors_match_single_reads(n):
    rng = np.random.default_rng(3)
    vectors = _unit(rng, n)
    index = VectorIndex.build([f"p{i}" for i in range(n)], vectors, version="v", model="m")
    index.apply({}, {"p2"}, 1)
    found, matrix = index.vectors(["p9", "nope", "p2", "p4"])
    assert found == ["p9", "p4"] and np.allclose(matrix, vectors[[9, 4]], atol=1e-6)
    assert index.vectors(["nope"])[1].shape == (0, 32)

"""Training and cross-validating the fusion choice and the second-stage ranker on judgments.

    search-api train-ranker JUDGMENTS --out data/ranker/model.json [--cache FILE] [--folds 5]

1. `collect`: every judged query runs through the live legs (`schedule.run_legs`, as a search
   would); each leg's ids and scores and the candidates' popularity are cached to disk, keyed by
   the judgments, the live index and the leg settings, so retraining never re-runs a search.
2. `cross_validate`: queries split into k folds; for each fold the fusion (rrf | linear and
   `semantic_weight` from `WEIGHTS`) is chosen on the other folds, then the ranker is trained on
   the other folds' top `depth` candidates of that fusion, and both are scored on the held-out
   fold. A query is never scored by a model or a choice that saw it.
3. The model written is trained on every query with the fusion most folds chose; the file
   carries its features, the cache's SHA-256 (training data fingerprint) and the CV scores.

Judgments may be ESCI's or derived from clicks (`search-api analytics` judgments): the same shape.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from search_api.retrieval import ranker as ranker_mod
from search_api.retrieval import semantic
from search_api.retrieval.evaluation import Judged, ndcg_at, recall_at, reciprocal_rank
from search_api.retrieval.fusion import RRF_K, linear, rrf
from search_api.retrieval.legs import LegResult
from search_api.retrieval.params import parse_search
from search_api.retrieval.runtime import Runtime

WEIGHTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0)
"""The `semantic_weight` grid searched per fold (keyword's weight is 1)."""
EXACT = 3
"""The label: Exact (gain 3) or not. Learning "is this what was asked for" generalised better
across folds than learning the graded gains (ridge, LambdaMART) on ~100 queries."""
C = 0.1
"""Inverse L2 strength; CV nDCG@10 barely moves over 0.01–1 (0.746–0.748)."""


@dataclass(frozen=True)
class Query:
    """One judged query's cached legs and candidate popularity."""

    query: str
    ratings: Mapping[str, int]
    legs: Mapping[str, LegResult]
    pop: Mapping[str, Mapping[str, Any]]
    cosine: Mapping[str, float]


def collect(rt: Runtime, judged: Sequence[Judged], cache: Path) -> tuple[list[Query], str]:
    """Every judged query's legs (from the cache when it matches), and the data's fingerprint.

    The legs run without their serving time budgets: a leg cut short on a busy machine would
    teach the model (and the fusion choice) about timeouts, not relevance.

    Raises:
        SearchUnavailable: a leg failed (the cache would be wrong; nothing is written).

    """
    from search_api.core.errors import SearchUnavailable
    from search_api.retrieval.hybrid import live_index
    from search_api.retrieval.schedule import run_legs

    rt = Runtime(rt.settings.with_(keyword_budget_ms=600_000, semantic_budget_ms=600_000),
                 embedder=rt.embedder, es=rt.es)
    live = live_index(rt)
    s = rt.settings
    key = hashlib.sha256(json.dumps([[j.query, sorted(j.ratings.items())] for j in judged]).encode()
                         + f"{live.index}|{s.keyword_candidates}|{s.semantic_candidates}|{s.semantic_floor}|"
                           f"{s.understand}".encode()
                         ).hexdigest()
    if cache.exists():
        body = json.loads(cache.read_text(encoding="utf-8"))
        if body.get("key") == key:
            return _queries(body["queries"]), _fingerprint(body)
    rows = []
    for item in judged:
        retrieved = run_legs(rt, parse_search({"q": item.query, "mode": "hybrid", "size": 100}), live)
        if retrieved.failed:
            raise SearchUnavailable(f"{item.query!r}: legs {', '.join(retrieved.failed)} failed; not cached")
        legs = {name: retrieved.results[name] for name in ranker_mod.LEGS if name in retrieved.results}
        ids = list(dict.fromkeys(doc_id for leg in legs.values() for doc_id in leg.ids))
        cosine = (semantic.affinity(live.vectors, ids, retrieved.query_vector)
                  if retrieved.query_vector is not None else {})
        rows.append({"query": item.query, "ratings": dict(item.ratings),
                     "legs": {name: [leg.ids, leg.scores] for name, leg in legs.items()},
                     "pop": ranker_mod.popularity(rt.es, live.index, ids, item.query), "cosine": cosine})
    body = {"key": key, "index": live.index, "queries": rows}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(body), encoding="utf-8")
    return _queries(rows), _fingerprint(body)


def _fingerprint(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body["queries"], sort_keys=True).encode()).hexdigest()


def _queries(rows: Sequence[Mapping[str, Any]]) -> list[Query]:
    return [Query(r["query"], {k: int(v) for k, v in r["ratings"].items()},
                  {name: LegResult(list(ids), [float(x) for x in scores]) for name, (ids, scores) in r["legs"].items()},
                  r["pop"], r["cosine"]) for r in rows]


@dataclass(frozen=True)
class Fusion:
    """A fusion choice: which and the semantic leg's weight."""

    kind: str
    weight: float

    def order(self, q: Query) -> list[str]:
        """The query's candidates in this fusion's order."""
        weights = {"keyword": 1.0, "semantic": self.weight}
        if len(q.legs) < 2:
            return list(dict.fromkeys(doc_id for leg in q.legs.values() for doc_id in leg.ids))
        if self.kind == "linear":
            return [doc_id for doc_id, _ in linear(q.legs, weights=weights)]
        return [doc_id for doc_id, _ in rrf({n: leg.ids for n, leg in q.legs.items()}, k=RRF_K, weights=weights)]

    def __str__(self) -> str:
        return f"{self.kind} w={self.weight:g}"


@dataclass(frozen=True)
class Metrics:
    """Mean nDCG@10, MRR and Recall@100 of one list per query."""

    ndcg10: float
    mrr: float
    recall100: float

    @classmethod
    def of(cls, lists: Sequence[Sequence[str]], queries: Sequence[Query]) -> Metrics:
        """The means over `queries`, `lists[i]` being the ranking of `queries[i]`."""
        n = max(len(queries), 1)
        return cls(sum(ndcg_at(r, q.ratings) for r, q in zip(lists, queries, strict=True)) / n,
                   sum(reciprocal_rank(r, q.ratings) for r, q in zip(lists, queries, strict=True)) / n,
                   sum(recall_at(r, q.ratings) for r, q in zip(lists, queries, strict=True)) / n)


def best_fusion(queries: Sequence[Query]) -> Fusion:
    """The fusion and weight with the highest mean nDCG@10 on `queries`."""
    choices = [Fusion(kind, w) for kind in ("rrf", "linear") for w in WEIGHTS]
    return max(choices, key=lambda f: (Metrics.of([f.order(q) for q in queries], queries).ndcg10, f.kind == "rrf"))


def _matrix(queries: Sequence[Query], fusion: Fusion, depth: int,
            names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    columns = [ranker_mod.FEATURES.index(name) for name in names]
    xs, ys, groups = [], [], []
    for q in queries:
        head = fusion.order(q)[:depth]
        if not head:
            continue
        xs.append(ranker_mod.features(q.query, head, q.legs, q.pop, q.cosine)[:, columns])
        ys.append([q.ratings.get(doc_id, 0) for doc_id in head])
        groups.append(len(head))
    return np.vstack(xs), np.concatenate(ys), groups


@dataclass(frozen=True)
class Model:
    """Trained weights in the model file's terms (standardisation, then the linear score)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """Log-odds per row of the full `features` matrix: what `ranker.Ranker.score` computes from the file."""
        columns = [ranker_mod.FEATURES.index(name) for name in self.features]
        return np.asarray(((matrix[:, columns] - self.mean) / self.scale) @ self.coef + self.intercept)


def train(queries: Sequence[Query], fusion: Fusion, depth: int,
          names: Sequence[str] = ranker_mod.LEG_FEATURES) -> Model:
    """A logistic regression of Exact on `queries`' top `depth` candidates of `fusion`, on features `names`."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x, y, _ = _matrix(queries, fusion, depth, names)
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    fit = LogisticRegression(C=C, max_iter=2000).fit((x - scaler.mean_) / scale, (y >= EXACT).astype(int))
    return Model(tuple(names), scaler.mean_, scale, fit.coef_[0], float(fit.intercept_[0]))


def reranked(model: Model, q: Query, fusion: Fusion, depth: int) -> list[str]:
    """The query's list with its top `depth` ordered by the model (what `ranker.rerank` serves)."""
    fused = fusion.order(q)
    head = fused[:depth]
    if not head:
        return fused
    scores = model.predict(ranker_mod.features(q.query, head, q.legs, q.pop, q.cosine))
    return [head[i] for i in sorted(range(len(head)), key=lambda i: (-scores[i], i))] + fused[depth:]


@dataclass(frozen=True)
class Fold:
    """One held-out fold: its size, the fusion chosen without it, and each stage's metrics on it."""

    queries: int
    fusion: Fusion
    stages: Mapping[str, Metrics]


def leg_order(q: Query, name: str) -> list[str]:
    """One leg's own ranking of the query (empty when it returned nothing)."""
    return list(dict.fromkeys(q.legs[name].ids)) if name in q.legs else []


STAGES = ("keyword", "semantic", "fusion (setting)", "+ ranker (setting)", "fusion (CV-tuned)", "+ ranker (CV-tuned)")


def cross_validate(queries: Sequence[Query], *, folds: int, depth: int, setting: Fusion,
                   names: Sequence[str] = ranker_mod.LEG_FEATURES, seed: int = 0,
                   progress: Callable[[str], None] | None = None) -> list[Fold]:
    """Each fold's stage metrics, every choice and model made on the other folds only.

    Two pipelines: the configured fusion (`setting`) with a model trained on its order (what the
    service runs), and the fusion the training folds prefer with a model on that order.
    """
    from sklearn.model_selection import KFold

    out = []
    split = KFold(n_splits=folds, shuffle=True, random_state=seed).split(np.arange(len(queries)))
    for i, (train_idx, test_idx) in enumerate(split, start=1):
        train_q = [queries[j] for j in train_idx]
        test_q = [queries[j] for j in test_idx]
        fusion = best_fusion(train_q)
        model = train(train_q, fusion, depth, names)
        on_setting = train(train_q, setting, depth, names)
        stages = {
            "keyword": Metrics.of([leg_order(q, "keyword") for q in test_q], test_q),
            "semantic": Metrics.of([leg_order(q, "semantic") for q in test_q], test_q),
            "fusion (setting)": Metrics.of([setting.order(q) for q in test_q], test_q),
            "+ ranker (setting)": Metrics.of([reranked(on_setting, q, setting, depth) for q in test_q], test_q),
            "fusion (CV-tuned)": Metrics.of([fusion.order(q) for q in test_q], test_q),
            "+ ranker (CV-tuned)": Metrics.of([reranked(model, q, fusion, depth) for q in test_q], test_q),
        }
        out.append(Fold(len(test_q), fusion, stages))
        if progress:
            progress(f"fold {i}: {len(test_q)} queries, fusion {fusion}: "
                     + "  ".join(f"{name} {m.ndcg10:.4f}" for name, m in stages.items()))
    return out


def mean_of(folds: Sequence[Fold], stage: str) -> Metrics:
    """A stage's metrics over all held-out queries (folds weighted by their size)."""
    n = sum(f.queries for f in folds)
    return Metrics(*(sum(getattr(f.stages[stage], m) * f.queries for f in folds) / n
                     for m in ("ndcg10", "mrr", "recall100")))


def chosen_fusion(folds: Sequence[Fold]) -> Fusion:
    """The fusion most folds chose, at the median of those folds' weights."""
    kind = Counter(f.fusion.kind for f in folds).most_common(1)[0][0]
    return Fusion(kind, statistics.median(f.fusion.weight for f in folds if f.fusion.kind == kind))


def train_final(queries: Sequence[Query], folds: Sequence[Fold], *, fusion: Fusion, depth: int, out: Path,
                fingerprint: str, judgments: Path, names: Sequence[str] = ranker_mod.LEG_FEATURES) -> None:
    """Train on every query over `fusion`'s order (the service's) and write the model file.

    The model re-orders the fusion the service is configured with, so it learns on that order (its
    ranks are features); the file names the fusion and serving refuses it under another one.
    """
    model = train(queries, fusion, depth, names)
    cv = {stage: vars(mean_of(folds, stage)) for stage in STAGES}
    ranker_mod.save(out, features=model.features, mean=model.mean.tolist(), scale=model.scale.tolist(),
                    coef=model.coef.tolist(), intercept=model.intercept, fingerprint=fingerprint, meta={
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"), "judgments": str(judgments),
        "queries": len(queries), "depth": depth, "fusion": fusion.kind, "semantic_weight": fusion.weight,
        "model_kind": "logistic regression (scikit-learn), label gain >= 3", "C": C,
        "cv_folds": len(folds), "cv": cv, "cv_suggested_fusion": vars(chosen_fusion(folds))})

"""The second stage: a learned model re-orders the top fused candidates of a hybrid search.

Fusion sees only the legs' scores; it cannot tell a well-reviewed product from an obscure one, nor
weigh a strong keyword match against a middling cosine per query. The ranker (a logistic
regression from scikit-learn, `search-api train-ranker`) scores the top `ranker_depth` fused candidates on
`LEG_FEATURES`: each leg's score, rank and presence, both fusions' scores, the fused rank and the
query's cosine with every candidate (from the replica's vectors). `CATALOG_FEATURES` (per-field
BM25, brand/colour named in the query, rating, reviews, sales, price) cost one more Elasticsearch
request; a model trained with `--features all` uses them. Measured on ESCI dev (CV nDCG@10 over
RRF 0.5 with query understanding, before exclusions were demoted): legs only 0.780, all 0.772,
and at 100k that request is ~17 ms p50 on a shared 2-core box against the model's ~1 ms, so the
shipped model uses legs only. The rest of the list keeps its fused order below the re-ranked head.

The model file is JSON (no pickle): format, features, training data's fingerprint, CV scores,
fusion trained over, weights. A file missing, unreadable or for other features or another fusion
is refused at load (logged) and search keeps the fused order. Personalised searches are re-ordered
too, on their personalised legs: skipping them left a shopper with history a worse list than one
without (ESCI personas nDCG@10 0.7672 → 0.7620; re-ordered 0.7747, brand lift 1.56×). A search
whose taste came through the profile leg keeps its fused order: no feature sees that leg.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch

from indexer.index_format import analyzed, engine_errors, normalize
from search_api.retrieval.fusion import RRF_K, Ranked, linear, rrf
from search_api.retrieval.legs import LegResult

log = logging.getLogger(__name__)

FORMAT = 1
"""The model file's layout version; bumped when `FEATURES` or their meaning change."""
LEGS = ("keyword", "semantic")
POPULARITY_FIELDS = ("rating", "rating_count", "sales", "price")
WORD_FIELDS = ("brand", "color")
"""Keyword fields compared with the query's words (doc values too)."""
FIELD_MATCHES = {
    "bm25_title": {"match": {"title_tokens": {}}},
    "bm25_brand": {"match": {"brand_tokens": {}}},
    "bm25_category": {"match": {"category_tokens": {}}},
    "bm25_color": {"match": {"color_tokens": {}}},
    "bm25_attributes": {"match": {"attribute_tokens": {}}},
    "bm25_bullets": {"match": {"bullet_tokens": {}}},
    "bm25_description": {"match": {"description_tokens": {}}},
    "title_all_words": {"match": {"title_tokens": {"operator": "and"}}},
    "title_phrase": {"match_phrase": {"title_tokens": {"slop": 1}}},
}
"""Per-field BM25 of the analysed query, as named queries scored in the same request: which field
matched says more than the blended BM25F (a title match is a product of that kind; a bullet match
may be an accessory)."""
LEG_FEATURES = (
    "keyword_score", "keyword_norm", "keyword_rank", "keyword_found",
    "semantic_score", "semantic_norm", "semantic_rank", "semantic_found",
    "rrf", "linear", "fused_rank", "keyword_ratio", "cosine", "cosine_gap",
)
"""What the legs and the replica's vectors already hold: free at serving time."""
CATALOG_FEATURES = (
    "brand_in_query", "color_in_query", *FIELD_MATCHES,
    "rating", "log_reviews", "log_sales", "log_price", "has_price",
)
"""What needs one more Elasticsearch request over the candidates (`popularity`)."""
FEATURES = (*LEG_FEATURES, *CATALOG_FEATURES)
"""Every feature `features` computes; a model uses these or a subset (its file names which)."""
FEATURE_SETS = {"legs": LEG_FEATURES, "all": FEATURES}
"""`train-ranker --features`: legs only (no extra request, the default) or everything."""
ABSENT_RANK = 1000.0
"""The rank of a candidate a leg did not return: past any leg's depth."""

Popularity = Mapping[str, Mapping[str, Any]]
"""Id → the `POPULARITY_FIELDS` (numbers) and `WORD_FIELDS` (text) it has."""


def _named(name: str, clause: Mapping[str, Any], tokens: str) -> dict[str, Any]:
    """One `FIELD_MATCHES` clause for the analysed query, named for `matched_queries`."""
    (kind, body), = clause.items()
    (field, options), = body.items()
    return {kind: {field: {**options, "query": tokens, "_name": name}}}


def popularity(es: Elasticsearch, index: str, ids: Sequence[str], query: str = "") -> dict[str, dict[str, Any]]:
    """The candidates' per-field BM25 for `query`, popularity, price, brand and colour, in one request.

    Numbers and keywords come from doc values (no `_source` decompression); the field scores from
    named queries over the candidates only (`include_named_queries_score`).

    Raises:
        EngineError: Elasticsearch failed.

    """
    if not ids:
        return {}
    tokens = analyzed(query) if query else ""
    should = [_named(name, clause, tokens) for name, clause in FIELD_MATCHES.items()] if tokens else []
    with engine_errors("reading candidate features"):
        response = es.search(index=index, query={"bool": {"filter": [{"ids": {"values": list(ids)}}],
                                                          "should": should}},
                             size=len(ids), source=False, docvalue_fields=[*POPULARITY_FIELDS, *WORD_FIELDS],
                             track_total_hits=False, include_named_queries_score=True)
    out: dict[str, dict[str, Any]] = {}
    for hit in response["hits"]["hits"]:
        fields = hit.get("fields", {})
        row: dict[str, Any] = {name: float(fields[name][0]) for name in POPULARITY_FIELDS if fields.get(name)}
        row.update({name: str(fields[name][0]) for name in WORD_FIELDS if fields.get(name)})
        matched = hit.get("matched_queries") or {}
        row.update({name: float(score) for name, score in matched.items()} if isinstance(matched, dict) else {})
        out[hit["_id"]] = row
    return out


def _share_in(value: str | None, words: frozenset[str]) -> float:
    """The share of `value`'s words the query has (0 without a value)."""
    if not value:
        return 0.0
    mine = normalize(value).split()
    return sum(w in words for w in mine) / len(mine) if mine else 0.0


def _leg_columns(result: LegResult | None, ids: Sequence[str]) -> np.ndarray:
    """score, normalised score, rank, found for each id (rank `ABSENT_RANK`, scores 0 when absent)."""
    out = np.zeros((len(ids), 4))
    out[:, 2] = ABSENT_RANK
    if result is None or not result.ids:
        return out
    low, high = min(result.scores), max(result.scores)
    seen: dict[str, tuple[float, int]] = {}
    for rank, (doc_id, score) in enumerate(zip(result.ids, result.scores, strict=True), start=1):
        seen.setdefault(doc_id, (score, rank))
    for row, doc_id in enumerate(ids):
        if doc_id in seen:
            score, rank = seen[doc_id]
            out[row] = (score, 1.0 if high <= low else (score - low) / (high - low), rank, 1.0)
    return out


def features(query: str, ids: Sequence[str], results: Mapping[str, LegResult], pop: Popularity,
             cosine: Mapping[str, float]) -> np.ndarray:
    """The `FEATURES` matrix of candidates `ids` (fused order), one row each.

    `cosine`: the query vector's cosine with every candidate that has a vector (also those the
    semantic leg did not return). The one definition both serving and training use, so a model
    always sees what it learned on.
    """
    words = frozenset(normalize(query).split())
    top_cos = max((cosine.get(doc_id, 0.0) for doc_id in ids), default=0.0)
    keyword = _leg_columns(results.get("keyword"), ids)
    semantic = _leg_columns(results.get("semantic"), ids)
    legs = {name: results[name] for name in LEGS if name in results}
    rrf_scores = dict(rrf({name: leg.ids for name, leg in legs.items()}, k=RRF_K))
    linear_scores = dict(linear(legs))
    top_keyword = max(results["keyword"].scores) if results.get("keyword") and results["keyword"].scores else 0.0
    matrix = np.zeros((len(ids), len(FEATURES)))
    for row, doc_id in enumerate(ids):
        p = pop.get(doc_id, {})
        price = p.get("price")
        matrix[row] = (
            *keyword[row], *semantic[row],
            rrf_scores.get(doc_id, 0.0), linear_scores.get(doc_id, 0.0), row + 1,
            keyword[row, 0] / top_keyword if top_keyword > 0 else 0.0,
            cosine.get(doc_id, 0.0), cosine.get(doc_id, 0.0) - top_cos,
            _share_in(p.get("brand"), words), _share_in(p.get("color"), words),
            *(p.get(name, 0.0) for name in FIELD_MATCHES),
            p.get("rating", 0.0), math.log1p(p.get("rating_count", 0.0)), math.log1p(p.get("sales", 0.0)),
            math.log1p(price) if price is not None and price >= 0 else 0.0, float(price is not None),
        )
    return matrix


@dataclass(frozen=True)
class Ranker:
    """A loaded model: standardised features → log-odds of Exact, and what it was trained on.

    A logistic regression, not boosted trees: with ~100 judged queries LambdaMART (LightGBM) fell
    below the fused order it re-ranked (ESCI dev CV nDCG@10 0.737 vs 0.741) while this scores
    above it, and its score is one dot product (microseconds) whose terms are the explanation.
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    features: tuple[str, ...]
    fingerprint: str
    path: Path
    meta: Mapping[str, Any]

    @property
    def columns(self) -> list[int]:
        """The model's features as columns of the full `features` matrix."""
        return [FEATURES.index(name) for name in self.features]

    @property
    def fusion(self) -> tuple[str, float] | None:
        """The fusion (kind, semantic weight) whose order it was trained on (None: not recorded)."""
        kind, weight = self.meta.get("fusion"), self.meta.get("semantic_weight")
        return (str(kind), float(weight)) if kind is not None and weight is not None else None

    def trained_for(self, kind: str, weight: float) -> bool:
        """Whether it re-orders this fusion: its ranks and scores are the features it learned on."""
        return self.fusion is None or (self.fusion[0] == kind and math.isclose(self.fusion[1], weight))

    @property
    def needs_catalog(self) -> bool:
        """Whether scoring needs the candidates' `popularity` request."""
        return any(name in CATALOG_FEATURES for name in self.features)

    def terms(self, matrix: np.ndarray) -> np.ndarray:
        """Each feature's contribution to each row's score (coefficient × standardised value)."""
        return ((matrix[:, self.columns] - self.mean) / self.scale) * self.coef

    def score(self, matrix: np.ndarray) -> np.ndarray:
        """One relevance score (log-odds) per candidate row of the full `features` matrix."""
        return np.asarray(((matrix[:, self.columns] - self.mean) / self.scale) @ self.coef + self.intercept)

    def contributions(self, matrix: np.ndarray, top: int = 3) -> list[dict[str, float]]:
        """Each row's `top` features by absolute contribution to its score."""
        out = []
        for row in self.terms(matrix):
            best = np.argsort(-np.abs(row))[:top]
            out.append({self.features[i]: round(float(row[i]), 4) for i in best})
        return out


def save(path: Path, *, features: Sequence[str], mean: Sequence[float], scale: Sequence[float],
         coef: Sequence[float], intercept: float, fingerprint: str, meta: Mapping[str, Any]) -> None:
    """Write the model file: format, features, fingerprint, `meta` (training facts) and the weights."""
    body = {"format": FORMAT, "features": list(features), "fingerprint": fingerprint, **meta,
            "model": {"mean": list(mean), "scale": list(scale), "coef": list(coef), "intercept": intercept}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=1), encoding="utf-8")


def load(path: Path | None, fusion: tuple[str, float] | None = None) -> Ranker | None:
    """The ranker in `path`, or None (fused order) when absent, unreadable or for other features.

    Given the configured `fusion` (kind, semantic weight), a model trained over another is refused too.
    """
    if path is None:
        return None
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
        names = tuple(body.get("features", ()))
        if body.get("format") != FORMAT or not names or not set(names) <= set(FEATURES):
            log.warning("ranker %s was trained on other features (format %s); using fused order",
                        path, body.get("format"))
            return None
        model = body["model"]
        arrays = [np.asarray(model[k], dtype=float) for k in ("mean", "scale", "coef")]
        if any(a.shape != (len(names),) or not np.isfinite(a).all() for a in arrays) or (arrays[1] <= 0).any():
            raise ValueError("weights do not match the features")
        intercept = float(model["intercept"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("ranker %s not loaded (%s); using fused order", path, exc)
        return None
    meta = {k: v for k, v in body.items() if k not in {"model", "features", "fingerprint"}}
    loaded = Ranker(*arrays, intercept, names, str(body.get("fingerprint", "")), Path(path), meta)
    if fusion is not None and not loaded.trained_for(*fusion):
        log.warning("ranker %s was trained over fusion %s, the service fuses by %s; using fused order",
                    path, loaded.fusion, fusion)
        return None
    return loaded


@dataclass(frozen=True)
class Reranked:
    """The re-ordered ranking and, per re-ranked id, its model score (and top contributions)."""

    ranked: Ranked
    scores: Mapping[str, float]
    contributions: Mapping[str, Mapping[str, float]]


def rerank(ranker: Ranker, query: str, ranked: Ranked, results: Mapping[str, LegResult], pop: Popularity,
           cosine: Mapping[str, float], *, depth: int, explain: bool = False) -> Reranked:
    """The top `depth` of `ranked` ordered by the model, the rest after them in fused order.

    Scores become 1 / (RRF_K + new rank), so what follows fusion (the personal tie-break, rules)
    sees the same scale as under RRF; the model's own scores go to `explain`.
    """
    head = [doc_id for doc_id, _ in ranked[:depth]]
    if not head:
        return Reranked(ranked, {}, {})
    matrix = features(query, head, results, pop, cosine)
    model_scores = ranker.score(matrix)
    order = sorted(range(len(head)), key=lambda i: (-model_scores[i], i))
    ids = [head[i] for i in order] + [doc_id for doc_id, _ in ranked[depth:]]
    contrib = dict(zip(head, ranker.contributions(matrix), strict=True)) if explain else {}
    return Reranked([(doc_id, 1.0 / (RRF_K + rank)) for rank, doc_id in enumerate(ids, start=1)],
                    {doc_id: float(s) for doc_id, s in zip(head, model_scores, strict=True)}, contrib)

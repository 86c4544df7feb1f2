"""Read-side settings: the shared `Settings` plus what only the search API uses.

Retrieval depth and fusion, serving, replica polling, viewing events, profiles and the personal
weights are no business of the indexer, so they live here; `ApiSettings` is still a `Settings`
(the read side hands it to the shared code that reads the index format).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from indexer.index_format import DEFAULT_ACTION_WEIGHTS, MULTILINGUAL_MODEL, name_part
from search_api.core.credentials import HASH, hash_key
from search_api.core.serving_settings import ServingSettings

FLOOR = 0.3
"""The semantic floor of the default MiniLM (see `ApiSettings.semantic_floor`)."""

MULTILINGUAL_FLOOR = 0.2
"""USE multilingual v3's floor. ESCI dev hybrid nDCG@10: 0.7233 at 0.3, 0.7419 at 0.2, 0.7337 at none
(MiniLM 0.7394 at 0.3); bench/nomatch.py on the 3k sample: see the README."""


SHIPPED_RANKER = Path(__file__).resolve().parents[1] / "retrieval" / "models" / "ranker-esci.json"
"""The second-stage model trained on ESCI dev (`STORESEARCH_RANKER_MODEL=shipped`)."""


class ApiSettings(ServingSettings):
    """Everything the search API needs to know, validated once at start."""

    ENV: ClassVar[dict[str, str]] = {
        **ServingSettings.ENV,
        "query_torch_threads": "STORESEARCH_QUERY_TORCH_THREADS", "faiss_threads": "STORESEARCH_FAISS_THREADS",
        "rrf_k": "STORESEARCH_RRF_K", "semantic_weight": "STORESEARCH_SEMANTIC_WEIGHT",
        "fusion": "STORESEARCH_FUSION", "ranker_model": "STORESEARCH_RANKER_MODEL",
        "ranker_depth": "STORESEARCH_RANKER_DEPTH",
        "keyword_candidates": "STORESEARCH_KEYWORD_CANDIDATES",
        "semantic_candidates": "STORESEARCH_SEMANTIC_CANDIDATES",
        "alias_check_seconds": "STORESEARCH_ALIAS_CHECK_SECONDS", "sync_seconds": "STORESEARCH_SYNC_SECONDS",
        "api_key": "STORESEARCH_API_KEY", "events_prefix": "STORESEARCH_EVENTS_PREFIX",
        "events_batch_max": "STORESEARCH_EVENTS_BATCH_MAX", "events_max_future_s": "STORESEARCH_EVENTS_MAX_FUTURE_S",
        "events_retention_days": "STORESEARCH_EVENTS_RETENTION_DAYS",
        "query_log": "STORESEARCH_QUERY_LOG", "query_log_queue": "STORESEARCH_QUERY_LOG_QUEUE",
        "query_log_batch": "STORESEARCH_QUERY_LOG_BATCH",
        "profile_events": "STORESEARCH_PROFILE_EVENTS", "profile_window_days": "STORESEARCH_PROFILE_WINDOW_DAYS",
        "profile_half_life_hours": "STORESEARCH_PROFILE_HALF_LIFE_HOURS",
        "profile_ttl_s": "STORESEARCH_PROFILE_TTL_S", "profile_top": "STORESEARCH_PROFILE_TOP",
        "action_weights": "STORESEARCH_ACTION_WEIGHTS", "personal_alpha": "STORESEARCH_PERSONAL_ALPHA",
        "personal_brand_boost": "STORESEARCH_PERSONAL_BRAND_BOOST",
        "personal_category_boost": "STORESEARCH_PERSONAL_CATEGORY_BOOST",
        "personal_max_boost": "STORESEARCH_PERSONAL_MAX_BOOST",
        "personal_gate_depth": "STORESEARCH_PERSONAL_GATE_DEPTH",
        "personal_gate_ratio": "STORESEARCH_PERSONAL_GATE_RATIO",
        "personal_profile_weight": "STORESEARCH_PERSONAL_PROFILE_WEIGHT",
        "personal_tiebreak": "STORESEARCH_PERSONAL_TIEBREAK",
        "relax_below": "STORESEARCH_RELAX_BELOW", "semantic_floor": "STORESEARCH_SEMANTIC_FLOOR",
        "typo_tolerance": "STORESEARCH_TYPO_TOLERANCE", "understand": "STORESEARCH_UNDERSTAND",
        "facet_price_bands": "STORESEARCH_FACET_PRICE_BANDS", "facet_ratings": "STORESEARCH_FACET_RATINGS",
        "facet_size": "STORESEARCH_FACET_SIZE",
        "synonyms_file": "STORESEARCH_SYNONYMS", "synonyms_check_seconds": "STORESEARCH_SYNONYMS_CHECK_SECONDS",
        "rules_refresh_s": "STORESEARCH_RULES_REFRESH_S", "rules_prefix": "STORESEARCH_RULES_PREFIX",
        "knn_candidates_factor": "STORESEARCH_KNN_CANDIDATES_FACTOR",
        "knn_rescore_oversample": "STORESEARCH_KNN_RESCORE_OVERSAMPLE",
    }

    # At query time one torch thread encodes a short query as fast as two (15 ms) and leaves the
    # other core to Elasticsearch; a second thread spinning after the forward pass measurably
    # slowed the ES calls that follow it. The same cap applies to ONNX Runtime (STORESEARCH_ENCODER).
    query_torch_threads: int = Field(1, ge=1, le=64)
    faiss_threads: int = Field(1, ge=1, le=64)
    rrf_k: int = Field(60, ge=1, le=10_000)
    # MiniLM alone ranks below BM25F on real product queries (ESCI dev nDCG@10 0.69 vs 0.73), so
    # its share of the fusion is below keyword's; it still adds the recall keyword matching misses.
    # How hybrid search merges its legs (`retrieval/fusion.py`): "rrf" (ranks) or "linear" (min-max
    # normalised scores); a request may choose its own (`fusion=`, `semantic_weight=`). 5-fold CV
    # over the ESCI dev queries (`bench/relevance.py --stages`) picks linear in every fold (weights
    # 0.1–0.4, median 0.4; held-out nDCG@10 0.7411 vs RRF 0.5's 0.7389), but the personal weights
    # (profile leg, keyword boosts) are tuned for RRF's scale: under linear a Chinese shopper's
    # profile no longer puts their preference on top (tests/integration/test_personalisation.py).
    # So RRF stays the default until those are re-tuned; set linear / 0.4 where nobody is personalised.
    semantic_weight: float = Field(0.5, ge=0.0, le=10.0)
    fusion: Literal["rrf", "linear"] = "rrf"
    # The second-stage ranker (`retrieval/ranker.py`, trained by `search-api train-ranker`): a
    # logistic-regression model file re-ordering the top `ranker_depth` fused candidates of a hybrid
    # search. One ships, off by default: retrieval/models/ranker-esci.json (`SHIPPED_RANKER`, trained
    # on ESCI dev over RRF 0.5: CV nDCG@10 0.7755 -> 0.7846), for English catalogs; on the Chinese
    # sample it undid profile-leg taste until profile-leg searches were exempted. None/`off`, missing,
    # built for other features or trained over another fusion than `fusion`/`semantic_weight`: fused
    # order (logged).
    ranker_model: Path | None = None
    ranker_depth: int = Field(100, ge=10, le=1000)
    keyword_candidates: int = Field(100, ge=10, le=1000)
    semantic_candidates: int = Field(100, ge=10, le=1000)
    # Elasticsearch backend: HNSW candidates per shard = k × this (`num_candidates`). bench/knn.py
    # measures recall@10 against exact search and latency for a few factors.
    knn_candidates_factor: float = Field(2.0, ge=1.0, le=100.0)
    # With `knn_index=int8_hnsw`: the top k × this are re-scored with the float vectors
    # (`rescore_vector`; 0: off). Quantised scores alone cap recall@10 (bench/knn.py).
    knn_rescore_oversample: float = Field(2.0, ge=0.0, le=10.0)
    alias_check_seconds: float = Field(5.0, ge=0.0, le=3600.0)
    # How often the search API asks Elasticsearch for changes after its snapshot (upserts,
    # deletes): a change is in every leg within about this long.
    sync_seconds: float = Field(2.0, ge=0.0, le=3600.0)
    # How often each API process checks the merchandising rules for changes (one tiny search; the
    # rules are re-read only when they changed): a rule is live everywhere within about this long.
    rules_refresh_s: float = Field(2.0, ge=0.0, le=3600.0)
    # Rules live in `<rules_prefix>-rules`; default: `prefix`. A separate prefix lets tests and
    # benchmarks try rules against a shared, read-only product index.
    rules_prefix: str | None = None
    # --- viewing events and personalisation (search_api/personal/)
    # Legacy single key with every scope (kept for existing deployments; prefer `api_keys_file`).
    # Held only as its hash (`sha256:<hex>`, which may also be given directly): see `_api_key`.
    api_key: str | None = None
    # Events live in `<events_prefix>-events-YYYY.MM.DD`; default: `prefix`. A separate prefix lets
    # a benchmark personalise against a read-only product index.
    events_prefix: str | None = None
    events_batch_max: int = Field(1000, ge=1, le=10_000)
    # Client clocks drift; an event more than this far in the future is a bug, not a clock skew.
    events_max_future_s: float = Field(300.0, ge=0.0, le=86_400.0)
    # Daily indices older than this are dropped by `search-api events-retention`, so older events
    # are refused at the door rather than written into an index that is about to go.
    events_retention_days: int = Field(90, ge=1, le=3650)
    # --- the query log (search_api/analytics/querylog.py): `<events_prefix>-queries-YYYY.MM.DD`
    # Every /search answer (and audit cell, marked) is logged asynchronously; off: nothing is.
    query_log: bool = True
    # Records waiting for Elasticsearch; past this a record is dropped and counted, never waited for.
    query_log_queue: int = Field(10_000, ge=1, le=1_000_000)
    # Records per bulk request.
    query_log_batch: int = Field(500, ge=1, le=10_000)
    profile_events: int = Field(100, ge=1, le=10_000)
    profile_window_days: float = Field(30.0, ge=0.01, le=3650.0)
    profile_half_life_hours: float = Field(72.0, ge=0.01, le=1e6)
    profile_ttl_s: float = Field(30.0, ge=0.0, le=86_400.0)
    profile_top: int = Field(5, ge=1, le=100)
    action_weights: tuple[tuple[str, float], ...] = tuple(DEFAULT_ACTION_WEIGHTS.items())
    # Share of the profile in the semantic query vector: normalize((1-α)·q + α·u). bench/
    # personalisation.py, same code, α 0.3 → 0.1: sample-persona lift 2.24× → 2.08× (preferred items
    # in the top 10), ESCI-persona nDCG@10 0.704 → 0.739 (0.736 unpersonalised). Relevance first.
    personal_alpha: float = Field(0.1, ge=0.0, le=1.0)
    # Keyword-leg factor for a candidate of an affinity brand / category: 1 + boost · share.
    personal_brand_boost: float = Field(0.5, ge=0.0, le=10.0)
    personal_category_boost: float = Field(0.5, ge=0.0, le=10.0)
    # Cap on the combined keyword factor (ES function_score max_boost): personalisation reorders
    # matches, it cannot make a weak match outrank a strong one by more than this.
    personal_max_boost: float = Field(1.5, ge=1.0, le=100.0)
    # The bent semantic search only re-ranks the query's own top-N neighbours: items far from the
    # query never enter, however close they are to the profile.
    personal_gate_depth: int = Field(300, ge=10, le=5000)
    # ... and only those at least this close to the query, relative to the mean cosine of its
    # best 10 (`personalize.ANCHOR_HITS`): on the sample, 0.7 keeps every pillow type for "pillow"
    # and drops bedding (0.38 vs a 0.43 gate), and for "枕头" keeps pillows but drops headphones
    # that only share the character 头.
    personal_gate_ratio: float = Field(0.7, ge=0.0, le=1.0)
    # RRF weight of the profile leg that replaces the semantic leg for queries the model cannot read.
    personal_profile_weight: float = Field(1.0, ge=0.0, le=10.0)
    # Added to the fused score × cos(profile, item): below the RRF gap between adjacent ranks
    # (1/61 - 1/62 ≈ 2.6e-4), so it only orders near-ties.
    personal_tiebreak: float = Field(1e-5, ge=0.0, le=1.0)
    # --- honest matching (search_api/retrieval/relax.py, semantic.py)
    # Keyword hits must match all the query's terms; when fewer products than this do, most terms,
    # then any. 100 (the keyword leg's default depth): ESCI dev hybrid nDCG@10 0.7388 vs 0.7394
    # unrelaxed; 10: 0.7363; 1: 0.7282 (a long query's partial matches are often relevant).
    relax_below: int = Field(100, ge=1, le=10_000)
    # Semantic candidates below this cosine to the query are not matches. bench/nomatch.py (3k
    # sample + ESCI dev, all-MiniLM-L6-v2): 0.3 answers 56% of 50 out-of-catalog queries empty
    # (44% flagged) with ESCI hybrid nDCG@10 0.7386 vs 0.7388 at no floor (semantic 0.6919 vs
    # 0.6942); 0.35 empties 74% but costs semantic-only search 0.009. Model-specific: USE
    # multilingual v3's cosines run lower, so it gets MULTILINGUAL_FLOOR unless one is chosen.
    semantic_floor: float = Field(FLOOR, ge=-1.0, le=1.0)
    # Misspelled query words corrected from the index vocabulary (search_api/retrieval/spelling.py).
    typo_tolerance: bool = True
    # Query understanding (search_api/understand/): brands, colours, sizes, gender/age, materials and
    # prices recognised in the query become soft boosts on the keyword leg; `understand=` per request.
    understand: bool = True
    # --- browsing (search_api/retrieval/facets.py)
    # Price facet band edges: bands 0-50, 50-100, …, 1000-. The sample's prices run 5 to 5,000
    # (quartiles 67 / 143 / 295), so each band holds a useful share of a typical answer.
    facet_price_bands: tuple[float, ...] = (50.0, 100.0, 200.0, 500.0, 1000.0)
    # Rating facet buckets are "this or better" (the sample's ratings run 3.6 to 5.0).
    facet_ratings: tuple[float, ...] = (4.5, 4.0, 3.5, 3.0)
    # Values per brand and colour facet (the most frequent first); category trees are never cut.
    facet_size: int = Field(20, ge=1, le=500)
    # --- synonyms (search_api/synonyms/)
    # A Solr-format file applied to the keyword leg at query time; default: the maintained file
    # shipped in the package. `off`: none (brand-keyword aliases apply either way). Checked at
    # start: a bad file stops the server naming file:line.
    synonyms_file: Path | None = Path(__file__).resolve().parents[1] / "synonyms" / "synonyms.txt"
    # How often a search stats the file for changes (each process on its own; 0: only
    # POST /admin/synonyms/reload re-reads it). A stat costs microseconds.
    synonyms_check_seconds: float = Field(2.0, ge=0.0, le=3600.0)

    @model_validator(mode="before")
    @classmethod
    def _model_floor(cls, data: Any) -> Any:
        """The multilingual model's floor unless another was chosen (MiniLM's default counts as none)."""
        if isinstance(data, dict) and data.get("model") == MULTILINGUAL_MODEL:
            try:
                unchosen = float(data.get("semantic_floor", FLOOR)) == FLOOR
            except (TypeError, ValueError):  # the field's own validation names the variable
                unchosen = False
            if unchosen:
                data = {**data, "semantic_floor": MULTILINGUAL_FLOOR}
        return data

    @field_validator("events_prefix", "rules_prefix")
    @classmethod
    def _index_prefix(cls, value: str | None) -> str | None:
        """Part of index names, like `prefix`."""
        return None if value is None else name_part(value)

    @field_validator("synonyms_file", mode="before")
    @classmethod
    def _synonyms_file(cls, value: Any) -> Any:
        """`off` turns the file off."""
        return None if isinstance(value, str) and value.strip().lower() == "off" else value

    @field_validator("ranker_model", mode="before")
    @classmethod
    def _ranker_model(cls, value: Any) -> Any:
        """`off` is none, `shipped` the model that ships (`SHIPPED_RANKER`)."""
        word = value.strip().lower() if isinstance(value, str) else None
        return None if word == "off" else SHIPPED_RANKER if word == "shipped" else value

    @field_validator("api_key")
    @classmethod
    def _api_key(cls, value: str | None) -> str | None:
        """The key's hash: the plain key is not kept (nor shown by repr or model_dump)."""
        if not value or not value.strip():  # blank was always "no key"
            return None
        return value if HASH.fullmatch(value) else hash_key(value)

    @field_validator("action_weights", mode="before")
    @classmethod
    def _action_weights(cls, value: Any) -> Any:
        """`view=1,order=8`: overrides of DEFAULT_ACTION_WEIGHTS (unnamed actions keep their default)."""
        if not isinstance(value, str):
            return value
        weights = dict(DEFAULT_ACTION_WEIGHTS)
        for part in (p.strip() for p in value.split(",") if p.strip()):
            name, _, number = (x.strip() for x in part.partition("="))
            if name not in DEFAULT_ACTION_WEIGHTS:
                raise ValueError(f"unknown action {name!r}; known: {', '.join(DEFAULT_ACTION_WEIGHTS)}")
            try:
                weights[name] = float(number)
            except ValueError:
                raise ValueError(f"{name} needs a number, got {number!r}") from None
            if not 0 <= weights[name] <= 1000:
                raise ValueError(f"{name} must be between 0 and 1000")
        return tuple(weights.items())

    @field_validator("facet_price_bands", "facet_ratings", mode="before")
    @classmethod
    def _edges(cls, value: Any) -> Any:
        """`50,100,200` in the environment: distinct non-negative numbers."""
        if isinstance(value, str):
            value = [x for x in value.split(",") if x.strip()]
        edges = tuple(float(x) for x in value)
        if not edges or len(set(edges)) != len(edges) or min(edges) < 0:
            raise ValueError("must be distinct non-negative numbers, at least one")
        return edges

    @property
    def queries_alias(self) -> str:
        """Alias over every daily query-log index (`<events_prefix>-queries-YYYY.MM.DD`)."""
        return f"{self.events_prefix or self.prefix}-queries"

    @property
    def events_alias(self) -> str:
        """Alias over every daily events index (`<events_prefix>-events-YYYY.MM.DD`)."""
        return f"{self.events_prefix or self.prefix}-events"

    @classmethod
    def _derived(cls, raw: dict[str, Any]) -> dict[str, Any]:
        """Events share the product prefix unless told otherwise."""
        if "events_prefix" not in raw and "prefix" in raw:
            return {**raw, "events_prefix": raw["prefix"]}
        return raw

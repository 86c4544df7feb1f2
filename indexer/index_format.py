"""The index format: everything the read side (`search_api`) may import from the write side.

One declared surface instead of imports scattered over `indexer`'s internals: the settings both
sides share, the error types and Elasticsearch boundary, the text analysis applied identically at
index and query time, the embedder, the mappings, the FAISS snapshot, the bulk writer (viewing
events go through the same one as products), and the two reads a replica needs (which version is
live, what changed after its snapshot). An import-linter contract (`pyproject.toml`) fails when
`search_api` imports anything from `indexer` except this module.
"""

from __future__ import annotations

from indexer.catalog.models import HIDDEN_STATUSES
from indexer.core.config import DEFAULT_ACTION_WEIGHTS, MULTILINGUAL_MODEL, Settings, name_part
from indexer.core.errors import ConfigError, EngineError, IndexerError
from indexer.core.es import engine_errors, ensure_index, make_client, ping
from indexer.core.exits import USAGE, quiet_logging, run_command
from indexer.embedding.embedder import Embedder
from indexer.embedding.encoders import load_embedder
from indexer.format import mappings
from indexer.format.vectors import VectorIndex
from indexer.store.bulk import bulk_append
from indexer.store.changelog import Change, changes_since
from indexer.store.versions import alias_target
from indexer.text.analysis import analyzed, analyzed_cjk, cjk_chars, detect_language, normalize, tokens
from indexer.text.variants import latin_words

__all__ = [
    "DEFAULT_ACTION_WEIGHTS", "HIDDEN_STATUSES", "USAGE", "Change", "ConfigError", "Embedder", "EngineError",
    "IndexerError", "MULTILINGUAL_MODEL", "Settings", "VectorIndex", "alias_target", "analyzed",
    "analyzed_cjk", "bulk_append", "changes_since", "cjk_chars", "detect_language", "engine_errors",
    "ensure_index", "latin_words", "load_embedder", "make_client", "mappings", "name_part", "normalize", "ping",
    "quiet_logging",
    "run_command",
    "tokens",
]

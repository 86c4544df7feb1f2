"""Analysed text cached by content: a rebuild of unchanged products skips jieba entirely.

Segmenting titles, bullets and descriptions is most of the indexer's own CPU once embeddings
are cached. The key is a hash of the analysis fingerprint (code format, jieba version, shipped
vocabulary) and every input `analysed_text` reads, so any change to either misses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import orjson

from indexer.catalog.models import Product
from indexer.embedding.blob_store import BlobStore
from indexer.format.documents import analysed_text, analysis_input
from indexer.text.analysis import analysis_fingerprint


class AnalysisCache:
    """Product → its analysed text fields, persisted between builds."""

    def __init__(self, path: Path) -> None:
        """Open (or create) the cache file (ConfigError if unusable)."""
        self._store = BlobStore(path, "analysed")
        self._prefix = analysis_fingerprint().encode() + b"\0"
        self.hits = 0

    def _key(self, product: Product) -> bytes:
        return hashlib.blake2b(self._prefix + analysis_input(product).encode("utf-8"), digest_size=16).digest()

    def analyse(self, products: Sequence[Product]) -> list[dict[str, str]]:
        """`analysed_text` of each product, computing (and storing) only the unseen ones."""
        keys = [self._key(p) for p in products]
        found = self._store.get_many(keys)
        out: list[dict[str, str]] = []
        fresh: list[tuple[bytes, bytes]] = []
        for key, product in zip(keys, products, strict=True):
            blob = found.get(key)
            if blob is not None:
                out.append(orjson.loads(blob))
                continue
            fields = analysed_text(product)
            out.append(fields)
            fresh.append((key, orjson.dumps(fields)))
        self.hits += len(products) - len(fresh)
        if fresh:
            self._store.put_many(fresh)
        return out

    def close(self) -> None:
        """Close the file."""
        self._store.close()

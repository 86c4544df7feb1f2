"""Embeddings cached by (model fingerprint, text): a rebuild re-encodes only what changed.

Encoding is ~90% of a cold build. A SQLite file keyed by a 128-bit BLAKE2 hash of the model
fingerprint and the exact embedded text turns an unchanged rebuild into a lookup, and makes
a resumed build skip everything the interrupted one had already encoded. Values are the raw
float32 bytes the model produced, so cached and fresh vectors are bit-identical.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from indexer.embedding.blob_store import BlobStore
from indexer.embedding.embedder import Embedder


def _key(fingerprint: bytes, text: str) -> bytes:
    return hashlib.blake2b(fingerprint + text.encode("utf-8"), digest_size=16).digest()


class EmbeddingCache:
    """A persistent text → vector map for one model; safe to share between processes."""

    def __init__(self, path: Path, fingerprint: str, dims: int) -> None:
        """Open (or create) the cache file.

        Raises:
            ConfigError: the file cannot be opened as a SQLite database.

        """
        self.path = path
        self.dims = dims
        self._fingerprint = fingerprint.encode("utf-8") + b"\0"
        self._store = BlobStore(path, "embeddings")
        self.hits = 0
        self.misses = 0

    def lookup(self, texts: Sequence[str]) -> tuple[np.ndarray, list[int]]:
        """Vectors for `texts` (zero rows where missing) and the positions that were missing."""
        keys = [_key(self._fingerprint, t) for t in texts]
        found = self._store.get_many(keys)
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        missing: list[int] = []
        width = 4 * self.dims
        for i, key in enumerate(keys):
            blob = found.get(key)
            if blob is not None and len(blob) == width:
                out[i] = np.frombuffer(blob, dtype=np.float32)
            else:
                missing.append(i)
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        return out, missing

    def store(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Remember freshly encoded vectors."""
        self._store.put_many((_key(self._fingerprint, t), np.ascontiguousarray(v, dtype=np.float32).tobytes())
                             for t, v in zip(texts, vectors, strict=True))

    def close(self) -> None:
        """Close the database file."""
        self._store.close()


def embed_cached(embedder: Embedder, cache: EmbeddingCache | None, texts: Sequence[str],
                 before_encoding: Callable[[], None] | None = None) -> np.ndarray:
    """Vectors for `texts`, encoding only those the cache does not hold.

    `before_encoding` runs only if something must be encoded (the build quiets the writer then).
    """
    if cache is None:
        if before_encoding and texts:
            before_encoding()
        return embedder.embed_documents(texts)
    vectors, missing = cache.lookup(texts)
    if missing:
        if before_encoding:
            before_encoding()
        fresh = embedder.embed_documents([texts[i] for i in missing])
        vectors[missing] = fresh
        cache.store([texts[i] for i in missing], fresh)
    return vectors

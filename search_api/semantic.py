"""The semantic leg: the query's embedding against the FAISS replica."""

from __future__ import annotations

from indexer.analysis import detect_language
from indexer.embedder import Embedder
from indexer.vectors import VectorIndex
from search_api.keyword import LegResult


def search(embedder: Embedder, vectors: VectorIndex, q: str, *, size: int) -> tuple[LegResult | None, str]:
    """Top `size` products by cosine, or None with the reason the leg was skipped.

    A query in a language the model cannot read is skipped rather than encoded: the English
    MiniLM turns every Chinese query into the same [UNK] vector, whose neighbours are noise.
    """
    readable = embedder.readable(q)
    if not readable:
        return None, f"skipped: model does not cover {detect_language(q)}"
    hits = vectors.search(embedder.embed_query(readable), size)
    return LegResult([h[0] for h in hits], [h[1] for h in hits], len(hits)), "ok"

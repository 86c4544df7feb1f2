"""Embedding of product text.

Owns the `Embedder` interface, the sentence-transformers model, the embed template and the
content-hash vector cache. May import `core`, `text`, `catalog`.
"""

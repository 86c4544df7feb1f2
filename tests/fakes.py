"""Small stand-ins for pure-logic unit tests only; behaviour tests use the real model."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from indexer.text.analysis import covered_text, tokens


class HashEmbedder:
    """Bag-of-tokens hashed into a normalised vector: deterministic, no model, English only."""

    model_id = "hash-test"
    fingerprint = "hash-test:1"
    languages = ("en",)

    def __init__(self, dims: int = 64) -> None:
        self.dims = dims

    def readable(self, text: str) -> str:
        return covered_text(text, self.languages)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in tokens(text):
                out[row, int(hashlib.md5(token.encode()).hexdigest(), 16) % self.dims] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out

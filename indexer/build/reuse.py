"""Rebuilds that start from the live version: clone its index, then write only what differs.

A full build writes every product again, yet when the mapping, the model, the analysis and the
document format are those of the live version, an unchanged product would come out as the very
document already indexed. Such a rebuild clones the live index instead (Elasticsearch hard-links
its segments: about a second at 100k products), takes the unchanged products' vectors from the
live snapshot, writes only products whose catalog record differs (`source_hash`) or that changed
after that snapshot, and deletes what the catalog no longer holds. What goes live is the same
set of documents a build from scratch would produce; verification and the swap are unchanged.

Writes to the live index are blocked only while the clone is made, under the write lock (so
upserts wait rather than fail); the lock names the blocked index, and a taker of a dead owner's
lock lifts the block (`indexer.locks`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from elasticsearch import Elasticsearch, helpers

from indexer.catalog.models import Product
from indexer.core.config import Settings
from indexer.core.errors import BuildError, IndexerError
from indexer.core.es import engine_errors
from indexer.embedding.embedder import Embedder
from indexer.format import mappings
from indexer.format.documents import DOCUMENT_FORMAT, source_hash
from indexer.format.vectors import VectorIndex
from indexer.store.locks import WRITE_LOCK, WRITE_LOCK_WAIT_S, Lock, lift_write_block
from indexer.store.records import all_records
from indexer.text.analysis import analysis_fingerprint

log = logging.getLogger(__name__)

SCAN_PAGE = 10_000
"""Documents per page when reading the clone's digests (doc values only: ~0.3 s per page)."""


def build_fingerprint(settings: Settings, embedder: Embedder) -> str:
    """Everything besides the catalog record that a product document depends on."""
    parts = {
        "mapping": mappings.products(settings, dims=embedder.dims),
        "model": embedder.fingerprint,
        "languages": list(settings.model_languages),
        "template": settings.embed_template,
        "analysis": analysis_fingerprint(),
        "document": DOCUMENT_FORMAT,
    }
    raw = json.dumps(parts, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


@dataclass(frozen=True)
class Indexed:
    """What the clone holds for one product id."""

    digest: str | None
    seq: int
    tombstone: bool
    has_vector: bool


class Base:
    """The live version a rebuild starts from: its snapshot, and its documents' digests."""

    def __init__(self, index: str, snapshot: VectorIndex) -> None:
        """Wrap a live index and its loaded vector snapshot; `read` fills in the digests."""
        self.index = index
        self.snapshot = snapshot
        self.docs: dict[str, Indexed] = {}
        self._vector_ids = set(snapshot.ids)

    def read(self, es: Elasticsearch, index: str) -> None:
        """Read every document's digest, seq and flags from `index` (the clone)."""
        query = {"query": {"match_all": {}}, "_source": False, "stored_fields": "_none_",
                 "docvalue_fields": ["id", "source_hash", "seq", "tombstone", "has_vector"], "sort": ["_doc"]}
        with engine_errors(f"reading document digests of {index}"):
            for hit in helpers.scan(es, index=index, size=SCAN_PAGE, query=query):
                f = hit.get("fields", {})
                self.docs[f["id"][0]] = Indexed(
                    digest=(f.get("source_hash") or [None])[0], seq=int((f.get("seq") or [0])[0]),
                    tombstone=bool((f.get("tombstone") or [False])[0]),
                    has_vector=bool((f.get("has_vector") or [False])[0]))

    def unchanged(self, product: Product) -> bool:
        """True when the clone's document for `product` is the one a fresh build would write.

        Documents changed after the snapshot (an upsert since the base was built, or a write of
        this very build before it was interrupted) do not count: their vector may not be the
        snapshot's.
        """
        doc = self.docs.get(product.id)
        return (doc is not None and not doc.tombstone and doc.seq <= self.snapshot.seq
                and doc.has_vector == (product.id in self._vector_ids)
                and doc.digest == source_hash(product))


def reusable_base(es: Elasticsearch, settings: Settings, embedder: Embedder, fingerprint: str,
                  live: str | None) -> Base | None:
    """The live version when a rebuild may start from it, else None (the reason is logged).

    `live` is the alias target the build already read (and recorded as `live_before`).
    """
    if live is None:
        return None
    record = next((r for r in all_records(es, settings) if r.products_index == live), None)
    if record is None or record.fingerprint != fingerprint:
        log.info("full build: %s was built with other mappings, model, analysis or document format", live)
        return None
    if (shards := _shards(es, live)) != settings.shards:  # a clone keeps its source's shard count
        log.info("full build: %s has %s shards, STORESEARCH_SHARDS asks for %d", live, shards, settings.shards)
        return None
    try:
        snapshot = VectorIndex.load(settings.vectors_dir / live, expect_model=embedder.model_id)
    except IndexerError as exc:
        log.info("full build: the live snapshot cannot be reused (%s)", exc)
        return None
    return Base(live, snapshot)


def _shards(es: Elasticsearch, index: str) -> int | None:
    """The primary shard count of `index` (None when it cannot be read)."""
    with engine_errors(f"reading the settings of {index}"):
        found = es.indices.get_settings(index=index, name="index.number_of_shards")
    try:
        return int(next(iter(found.values()))["settings"]["index"]["number_of_shards"])
    except (StopIteration, KeyError, TypeError, ValueError):
        return None


def load_base(settings: Settings, embedder: Embedder, index: str) -> Base:
    """The base of a reusing build being resumed.

    Raises:
        BuildError: its snapshot is gone.

    """
    try:
        return Base(index, VectorIndex.load(settings.vectors_dir / index, expect_model=embedder.model_id))
    except IndexerError as exc:
        raise BuildError(f"cannot resume: the snapshot of {index}, which this build started from, "
                         f"is unusable ({exc}); discard the build and run it again") from exc


def clone(es: Elasticsearch, settings: Settings, source: str, target: str, load_settings: dict) -> None:
    """Make `target` a copy of `source`, blocking writes to `source` only while the copy is made."""
    with Lock(es, settings, WRITE_LOCK, purpose=f"clone {source} → {target}", wait=WRITE_LOCK_WAIT_S,
              write_block=source):
        with engine_errors(f"cloning {source} into {target}"):
            es.indices.put_settings(index=source, settings={"index.blocks.write": True})
            try:
                es.indices.clone(index=source, target=target, wait_for_active_shards="all",
                                 settings={**load_settings["index"], "blocks.write": False})
            finally:
                lift_write_block(es, source)
        with engine_errors(f"waiting for {target}"):
            health = es.cluster.health(index=target, wait_for_status="yellow", timeout="60s")
            if health.get("timed_out"):
                raise BuildError(f"the clone {target} did not become available within 60 s")


def removals(base: Base, kept: set[str]) -> list[str]:
    """Ids in the clone that the catalog no longer holds (tombstones included)."""
    return [pid for pid in base.docs if pid not in kept]

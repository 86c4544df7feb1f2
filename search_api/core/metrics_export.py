"""The scrape: the metrics as Prometheus text, from this process or from every gunicorn worker.

prometheus_client decides when it is imported whether values live in memory or in per-process
mmap files under `PROMETHEUS_MULTIPROC_DIR` (its documented multiprocess mode). With the variable
set, a scrape merges every worker's files (`MultiProcessCollector`), whichever worker answers it;
without it, a scrape reads this process's registry plus the process collector (CPU, memory, fds).

What serving with several workers must do (gunicorn, app preloaded):

- set `PROMETHEUS_MULTIPROC_DIR` to an existing directory private to this server, in the
  environment, before anything imports prometheus_client (`check_multiprocess` refuses otherwise);
- `clear_multiprocess_dir()` once in the master before workers fork: a previous run's counters
  would otherwise be added to this one's;
- `mark_worker_dead(worker.pid)` from gunicorn's `child_exit` hook: the dead worker's gauges go,
  its counters and histograms stay (totals never go backwards).

The replica's lag is derived at scrape time from the sync timestamps, so a stuck sync thread shows
a growing lag instead of the last value it managed to write.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from indexer.index_format import ConfigError
from search_api.core.metrics import LAST_SYNC, REGISTRY, multiprocess_active

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The classic text format every Prometheus version reads (what `generate_latest` writes)."""

LAG = "storesearch_replica_lag_seconds"
_PROCESS = ProcessCollector(registry=None)


def multiprocess_dir() -> Path | None:
    """The directory of the workers' metric files, when multiprocess mode is asked for."""
    value = os.environ.get(MULTIPROC_ENV, "").strip()
    return Path(value) if value else None


def check_multiprocess() -> None:
    """Refuse a multiprocess setup that would scrape wrong numbers.

    Raises:
        ConfigError: the directory does not exist, or the variable was set after prometheus_client
            was imported (each scrape would then show only the worker that answered it).

    """
    directory = multiprocess_dir()
    if directory is None:
        return
    if not directory.is_dir():
        raise ConfigError(f"{MULTIPROC_ENV}: not a directory, got {str(directory)!r}")
    if not multiprocess_active():
        raise ConfigError(f"{MULTIPROC_ENV} was set after prometheus_client was imported; "
                          "set it in the environment before the server starts")


def clear_multiprocess_dir() -> int:
    """Delete a previous run's metric files (call once, before workers start); returns how many."""
    directory = multiprocess_dir()
    if directory is None or not directory.is_dir():
        return 0
    stale = list(directory.glob("*.db"))
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def mark_worker_dead(pid: int) -> None:
    """Forget a dead worker's live gauges (gunicorn: `child_exit(server, worker)` → `worker.pid`).

    A no-op without multiprocess mode, so the hook can be installed unconditionally.
    """
    directory = multiprocess_dir()
    if directory is not None and multiprocess_active():
        mark_process_dead(pid, str(directory))


class _Scrape:
    """The metrics of one scrape, with the replica lag derived from the sync timestamps."""

    def __init__(self, source: Collector, extra: tuple[Collector, ...]) -> None:
        self.source = source
        self.extra = extra

    def collect(self) -> Iterator[Metric]:
        stamps: dict[str, float] = {}
        for family in self.source.collect():
            if family.name == LAST_SYNC:
                for sample in family.samples:
                    alias = sample.labels.get("alias", "")
                    if sample.value > 0:  # the oldest live worker's sync sets the lag
                        stamps[alias] = min(stamps.get(alias, sample.value), sample.value)
            yield family
        yield lag_family(stamps, time.time())
        for collector in self.extra:
            yield from collector.collect()


def lag_family(stamps: dict[str, float], now: float) -> GaugeMetricFamily:
    """Seconds since the stalest worker's last successful sync, per alias."""
    family = GaugeMetricFamily(LAG, "Seconds since the stalest worker's last successful change-log sync: "
                                    "changes written since may be missing from the semantic leg.", labels=["alias"])
    for alias, stamp in sorted(stamps.items()):
        family.add_metric([alias], max(0.0, now - stamp))
    return family


def scrape() -> bytes:
    """Every metric of this server as Prometheus text (`CONTENT_TYPE`)."""
    if multiprocess_active():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # reads PROMETHEUS_MULTIPROC_DIR
        return generate_latest(_Scrape(registry, ()))  # type: ignore[arg-type]
    return generate_latest(_Scrape(REGISTRY, (_PROCESS,)))  # type: ignore[arg-type]

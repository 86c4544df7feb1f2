"""Kill a data node of a local Elasticsearch cluster under load: what searches, upserts and a build see.

    .venv/bin/python bench/cluster_faults.py [--nodes 3] [--port 9250 --base DIR] [--size 2000]
        [--before 5] [--during 20] [--threads 2] [--build-size 4000] [--no-build]

Starts a cluster of `--nodes` es-local nodes on loopback (or uses the running one named by
`--port`/`--base`, as `ES_PORT`/`STORESEARCH_ES_DIR` of `scripts/es-local start --nodes N`), builds a
sample catalog with 3 shards and 1 replica (`STORESEARCH_SHARDS`/`STORESEARCH_REPLICAS`), then:

1. searches (`--threads` loops through the in-process API, each request timed) and upserts (one
   product every 0.2 s through `indexer.build.changes.upsert`) for `--before` s, SIGKILLs a data
   node that is not the elected master, goes on for `--during` s, restarts the node
   (`es-local start`, which starts only the nodes that are down) and waits for green;
2. checks every upsert that was acknowledged is in the live version;
3. (unless `--no-build`) runs `indexer build --full` of `--build-size` products in a subprocess,
   kills a node holding a primary of the loading index, and reports whether the build completed
   verified or stopped with the live alias untouched; a stopped one is resumed once the node is
   back (`--resume latest`) and must then verify and go live.

Prints the counts: searches answered / degraded / failed / hung (> 2 s), the degraded window,
upserts acknowledged / lost / refused, time to green, the build's outcome. Every process it starts
is its own; the cluster it started is stopped at the end. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from elasticsearch import Elasticsearch  # noqa: E402

from indexer.build.changes import upsert  # noqa: E402
from indexer.build.pipeline import BuildOptions, build  # noqa: E402
from indexer.core.errors import IndexerError  # noqa: E402
from indexer.core.es import make_client  # noqa: E402
from indexer.embedding.embedder import Embedder  # noqa: E402
from indexer.embedding.encoders import load_embedder  # noqa: E402
from indexer.sample import generate  # noqa: E402
from indexer.store.versions import alias_target  # noqa: E402
from search_api.core.settings import ApiSettings  # noqa: E402
from tests.es_node import LocalCluster  # noqa: E402
from tests.serving import Served, sync_env  # noqa: E402

HANG_S = 2.0
"""A search slower than this counts as hung (the issue's bar: 0 of them)."""
UPSERT_EVERY_S = 0.2
GREEN_TIMEOUT_S = 300.0
QUERIES = ["pillow", "memory foam pillow", "抱枕", "phone case", "shoes", "dress", "lipstick", "护肤",
           "coffee", "headphones", "water bottle", "backpack", "牛仔裤", "toy", "rice cooker", "baby"]


@dataclass(frozen=True)
class Search:
    """One timed search: when it started relative to the kill (negative: before), how long, what came back."""

    at: float
    seconds: float
    outcome: str
    """answered | degraded | failed"""
    detail: str = ""
    """For a degraded answer the legs that failed (`keyword:timeout`), for a failure the error code."""


@dataclass
class SearchCounts:
    """Every search the load made, split by phase."""

    searches: list[Search] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, search: Search) -> None:
        """Keep one search (called from every load thread)."""
        with self.lock:
            self.searches.append(search)

    def phase(self, after_kill: bool) -> list[Search]:
        """The searches started before (False) or after (True) the kill."""
        return [s for s in self.searches if (s.at >= 0) == after_kill]

    def window(self) -> tuple[float, float] | None:
        """First and last degraded or failed answer after the kill."""
        bad = [s.at for s in self.phase(True) if s.outcome != "answered"]
        return (min(bad), max(bad)) if bad else None


def summary(searches: list[Search]) -> str:
    """answered/degraded/failed/hung and p50/p99/max of one phase."""
    if not searches:
        return "none"
    times = sorted(s.seconds for s in searches)
    n = {k: sum(1 for s in searches if s.outcome == k) for k in ("answered", "degraded", "failed")}
    hung = sum(1 for t in times if t > HANG_S)
    return (f"{len(searches)} searches: {n['answered']} answered, {n['degraded']} degraded, {n['failed']} failed, "
            f"{hung} hung > {HANG_S:.0f} s; p50 {1000 * times[len(times) // 2]:.0f} ms, "
            f"p99 {1000 * times[min(len(times) - 1, int(len(times) * 0.99))]:.0f} ms, max {1000 * times[-1]:.0f} ms")


def details(searches: list[Search]) -> str:
    """How often each degraded leg or error code appeared."""
    seen: dict[str, int] = {}
    for s in searches:
        if s.detail:
            seen[s.detail] = seen.get(s.detail, 0) + 1
    return json.dumps(seen, ensure_ascii=False) if seen else "-"


@dataclass
class UpsertCounts:
    """Upserts by outcome: acknowledged ids, refusals (never acknowledged), and acknowledged ids missing after."""

    acked: list[str] = field(default_factory=list)
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    refused_during_fault: int = 0
    acked_during_fault: int = 0


@dataclass
class NodeFault:
    """The outcome of `kill_under_load`."""

    victim: str
    searches: SearchCounts
    upserts: UpsertCounts
    status_after_kill: str
    restart_s: float
    green_after_restart_s: float
    green_after_kill_s: float


@dataclass
class BuildFault:
    """The outcome of `build_while_node_dies`."""

    victim: str
    first_exit: int
    first_tail: str
    alias_untouched: bool
    resumed_exit: int | None
    live_ok: bool
    live_count: int
    expected: int
    seconds: float

    @property
    def outcome(self) -> str:
        """One line: completed verified, or stopped with the alias untouched (and how the resume went)."""
        if self.first_exit == 0:
            return "completed verified" if self.live_ok else "COMPLETED BUT WRONG"
        if not self.alias_untouched:
            return "STOPPED AND SWAPPED"
        if self.resumed_exit == 0 and self.live_ok:
            return "stopped cleanly (alias untouched), resumed verified"
        return f"stopped cleanly (alias untouched), resume exit {self.resumed_exit}"


def cluster_settings(cluster: LocalCluster, root: Path, **changes: Any) -> ApiSettings:
    """Settings for a fresh prefix on `cluster`: 3 shards, 1 replica, quick alias checks, no query log."""
    return ApiSettings.from_env().with_(**{
        "es_url": cluster.url, "prefix": f"faults-{uuid.uuid4().hex[:8]}", "vectors_dir": root / "vectors",
        "shards": 3, "replicas": 1, "request_timeout_s": 10.0, "alias_check_seconds": 1.0, "sync_seconds": 1.0,
        "query_log": False, "lock_stale_seconds": 10.0, **changes})


def wait_green(es: Elasticsearch, timeout: float = GREEN_TIMEOUT_S) -> float:
    """Seconds until the cluster is green (raises after `timeout`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if es.cluster.health(wait_for_status="green", timeout="5s")["status"] == "green":
                return time.monotonic() - started
        except Exception:  # noqa: BLE001  a node may be gone for a moment
            time.sleep(0.5)
    raise RuntimeError(f"cluster not green after {timeout:.0f} s: {es.cluster.health()}")


def node_index(cluster: LocalCluster, name: str) -> int:
    """es-local names node i `local-<port + i>`."""
    return int(name.rsplit("-", 1)[1]) - cluster.port


def victim(es: Elasticsearch, cluster: LocalCluster, index_pattern: str) -> int:
    """A node that is not the elected master and holds a primary of `index_pattern`."""
    master = es.cat.master(format="json")[0]["node"]
    shards = es.cat.shards(index=index_pattern, format="json", h="node,prirep,state")
    holders = sorted({s["node"] for s in shards if s["prirep"] == "p" and s.get("node") and s["node"] != master})
    if not holders:
        raise RuntimeError(f"no non-master node holds a primary of {index_pattern}: {shards}")
    return node_index(cluster, holders[0])


def build_sample(settings: ApiSettings, es: Elasticsearch, embedder: Embedder, root: Path, size: int) -> int:
    """Generate and build `size` sample products under `settings.prefix`; returns the live count."""
    paths = generate.write(root / "catalog", size, seed=7)
    report = build(settings, es, embedder, BuildOptions(products=(paths["products"],),
                                                        brand_keywords=(paths["brand_keywords"],), progress=False))
    return report.accepted


def _search_loop(port: int, counts: SearchCounts, stop: threading.Event, killed_at: list[float],
                 seed: int, pause_s: float) -> None:
    """Search a served API over keep-alive HTTP until `stop`; a request gets 10 s, then counts as failed."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while not stop.is_set():
        path = "/search?" + urllib.parse.urlencode({"q": rng.choice(QUERIES), "size": 10})
        started = time.monotonic()
        try:
            conn.request("GET", path)
            answer = conn.getresponse()
            status, body = answer.status, json.loads(answer.read() or b"null")
        except (OSError, http.client.HTTPException, ValueError) as exc:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            status, body = 0, {"error": {"code": type(exc).__name__}}
        elapsed = time.monotonic() - started
        at = started - killed_at[0] if killed_at else started - time.monotonic() - 1e-3
        if status != 200:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            counts.record(Search(at, elapsed, "failed", str(error.get("code", status))))
        elif body["meta"].get("degraded"):
            legs = body["meta"].get("legs", {})  # "ok", "skipped: …", "failed: <reason>", "timeout: …"
            bad = ",".join(sorted(f"{leg} {str(state)[:60]}" for leg, state in legs.items()
                                  if not str(state).startswith(("ok", "skipped"))))
            counts.record(Search(at, elapsed, "degraded", bad))
        else:
            counts.record(Search(at, elapsed, "answered"))
        stop.wait(pause_s)
    conn.close()


def _upsert_loop(settings: ApiSettings, es: Elasticsearch, embedder: Embedder, counts: UpsertCounts,
                 stop: threading.Event, killed: threading.Event, root: Path) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        pid = f"fault-{n}"
        path = root / f"upsert-{n}.jsonl"
        path.write_text(json.dumps({"id": pid, "title": f"faultcheck item {n} pillow", "brand": "Faultcheck",
                                    "category": "Home > Bedding", "price": 10 + n}) + "\n", encoding="utf-8")
        during = killed.is_set()
        try:
            report = upsert(settings, es, embedder, [path])
        except IndexerError as exc:
            counts.refused += 1
            counts.refused_during_fault += during
            counts.errors.append(f"{pid}: {exc}")
        else:
            if report.failures:
                counts.refused += 1
                counts.refused_during_fault += during
                counts.errors.append(f"{pid}: {report.failures[0].reason}")
            else:
                counts.acked.append(pid)
                counts.acked_during_fault += during
        stop.wait(UPSERT_EVERY_S)


def kill_under_load(settings: ApiSettings, cluster: LocalCluster, embedder: Embedder, root: Path, *,
                    before_s: float = 5.0, during_s: float = 20.0, threads: int = 2,
                    pause_s: float = 0.05, say: Callable[[str], None] = print) -> NodeFault:
    """Search a served API and upsert, SIGKILL a data node, go on, restart it, wait for green; count everything."""
    es = make_client(settings)
    api = Served(settings, root / "api.log", "--workers", "1", "--threads", "4", STORESEARCH_QUERY_LOG="false",
                 **sync_env(settings))
    try:
        for q in QUERIES:  # warm the process's connections and caches: the first answers are not the fault's
            api.get("/search", q=q, size=10)
        searches, upserts = SearchCounts(), UpsertCounts()
        stop, killed = threading.Event(), threading.Event()
        killed_at: list[float] = []
        loops = [threading.Thread(target=_search_loop, args=(api.port, searches, stop, killed_at, i, pause_s),
                                  daemon=True) for i in range(threads)]
        loops.append(threading.Thread(target=_upsert_loop, args=(settings, make_client(settings), embedder, upserts,
                                                                 stop, killed, root), daemon=True))
        node = victim(es, cluster, f"{settings.prefix}-products-*")
        name = f"local-{cluster.port + node}"
        for loop in loops:
            loop.start()
        time.sleep(before_s)
        say(f"killing {name} (SIGKILL) after {before_s:.0f} s of load")
        killed_at.append(time.monotonic())
        cluster.kill(node)
        killed.set()
        time.sleep(during_s)
        stop.set()
        for loop in loops:
            loop.join(timeout=60)
    finally:
        api.stop()
    status = str(es.cluster.health()["status"])
    say(f"load stopped {during_s:.0f} s after the kill; cluster {status}; restarting {name}")
    started = time.monotonic()
    cluster.run("start")
    restart_s = time.monotonic() - started
    green_s = wait_green(es)
    green_after_kill = time.monotonic() - killed_at[0]
    es.indices.refresh(index=settings.products_alias)
    found = es.search(index=settings.products_alias, query={"ids": {"values": upserts.acked}},
                      size=max(1, len(upserts.acked)), source=["title"])["hits"]["hits"]
    present = {hit["_id"] for hit in found}
    upserts.lost = [pid for pid in upserts.acked if pid not in present]
    return NodeFault(name, searches, upserts, status, restart_s, green_s, green_after_kill)


def build_while_node_dies(settings: ApiSettings, cluster: LocalCluster, root: Path, *, size: int = 4000,
                          say: Callable[[str], None] = print) -> BuildFault:
    """`indexer build --full` in a subprocess; kill a node holding a primary of the loading index."""
    es = make_client(settings)
    paths = generate.write(root / "build-catalog", size, seed=11)
    live_before = alias_target(es, settings.products_alias)
    env = {**os.environ, "PYTHONPATH": str(REPO), "ES_URL": settings.es_url, "STORESEARCH_PREFIX": settings.prefix,
           "STORESEARCH_VECTORS_DIR": str(settings.vectors_dir), "STORESEARCH_CACHE_DIR": str(settings.cache_dir),
           "STORESEARCH_SHARDS": str(settings.shards), "STORESEARCH_REPLICAS": str(settings.replicas),
           "STORESEARCH_LOCK_STALE_SECONDS": str(settings.lock_stale_seconds)}
    command = [sys.executable, "-m", "indexer.cli", "build", "--full", "--no-progress", "--reject-dir",
               str(root / "reports"), str(paths["products"]), "--brand-keywords", str(paths["brand_keywords"])]
    started = time.monotonic()
    log = root / "build.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        loading = _wait_loading(es, settings, live_before, proc)
        node = victim(es, cluster, loading)
        say(f"build is writing {loading}; killing local-{cluster.port + node} (SIGKILL)")
        cluster.kill(node)
        first_exit = proc.wait(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:])
    say(f"build exited {first_exit}: {tail.splitlines()[-1] if tail else ''}")
    say("restarting the node")
    cluster.run("start")
    wait_green(es)
    now_live = alias_target(es, settings.products_alias)
    alias_untouched = first_exit == 0 or now_live == live_before
    resumed_exit = None
    if first_exit != 0 and alias_untouched:
        resumed = subprocess.run([sys.executable, "-m", "indexer.cli", "build", "--resume", "latest", "--no-progress",
                                  "--reject-dir", str(root / "reports")], env=env, cwd=REPO, capture_output=True,
                                 text=True, timeout=900)
        resumed_exit = resumed.returncode
        say(f"resume exited {resumed_exit}: {(resumed.stderr or resumed.stdout).strip().splitlines()[-1:]}")
        now_live = alias_target(es, settings.products_alias)
    expected = _catalog_rows(paths["products"])
    es.indices.refresh(index=settings.products_alias)
    count = int(es.count(index=settings.products_alias)["count"])
    live_ok = now_live != live_before and count == expected
    return BuildFault(f"local-{cluster.port + node}", first_exit, tail, alias_untouched, resumed_exit, live_ok,
                      count, expected, time.monotonic() - started)


def _catalog_rows(path: Path) -> int:
    with path.open(encoding="utf-8") as fh:
        return sum(1 for line in fh if line.strip())


def _wait_loading(es: Elasticsearch, settings: ApiSettings, live: str | None, proc: subprocess.Popen[bytes],
                  timeout: float = 300.0) -> str:
    """The new products index once Elasticsearch has indexed documents into it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the build ended ({proc.returncode}) before it wrote anything")
        stats = es.indices.stats(index=f"{settings.prefix}-products-*", metric="indexing")["indices"]
        for name, stat in stats.items():
            if name != live and stat["primaries"]["indexing"]["index_total"] > 0:
                return name
        time.sleep(0.2)
    raise RuntimeError(f"the build wrote nothing within {timeout:.0f} s")


def drop(es: Elasticsearch, prefix: str) -> None:
    es.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
    es.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-*")


def print_node_fault(fault: NodeFault) -> None:
    """The table of `kill_under_load`."""
    s, u = fault.searches, fault.upserts
    window = s.window()
    rows = [
        ("killed node", fault.victim),
        ("before the kill", summary(s.phase(False))),
        ("after the kill", summary(s.phase(True))),
        ("degraded/failed window", f"{window[0]:+.2f} s .. {window[1]:+.2f} s after the kill" if window else "none"),
        ("degraded legs / errors before", details(s.phase(False))),
        ("degraded legs / errors after", details(s.phase(True))),
        ("upserts acknowledged", f"{len(u.acked)} ({u.acked_during_fault} after the kill)"),
        ("upserts acknowledged but lost", len(u.lost)),
        ("upserts refused (not acknowledged)", f"{u.refused} ({u.refused_during_fault} after the kill)"),
        ("cluster right after the load", fault.status_after_kill),
        ("node restart (es-local start)", f"{fault.restart_s:.1f} s"),
        ("green after the restart", f"{fault.green_after_restart_s:.1f} s"),
        ("green after the kill", f"{fault.green_after_kill_s:.1f} s"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    if u.errors:
        print("  first refusal:", u.errors[0][:300])


def print_build_fault(fault: BuildFault) -> None:
    rows = [("killed node", fault.victim), ("first run exit", fault.first_exit),
            ("alias untouched by a failed run", fault.alias_untouched), ("resume exit", fault.resumed_exit),
            ("live count / catalog rows", f"{fault.live_count} / {fault.expected}"),
            ("outcome", fault.outcome), ("seconds", f"{fault.seconds:.0f}")]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--port", type=int, help="first HTTP port of a running es-local cluster (ES_PORT)")
    parser.add_argument("--base", type=Path, help="its STORESEARCH_ES_DIR")
    parser.add_argument("--size", type=int, default=2000, help="products in the searched build")
    parser.add_argument("--before", type=float, default=5.0, help="seconds of load before the kill")
    parser.add_argument("--during", type=float, default=20.0, help="seconds of load after the kill")
    parser.add_argument("--threads", type=int, default=2, help="search loops (the load is bounded by them)")
    parser.add_argument("--build-size", type=int, default=4000)
    parser.add_argument("--no-build", action="store_true", help="skip the build-while-a-node-dies part")
    args = parser.parse_args()
    if args.port is not None:
        cluster = LocalCluster(args.nodes, port=args.port, base=args.base)
    else:
        cluster = LocalCluster(args.nodes)
    own = args.port is None
    root = Path(tempfile.mkdtemp(prefix="cluster-faults-"))
    settings: ApiSettings | None = None
    try:
        if own:
            print(f"starting {args.nodes} nodes: {cluster.run('start')}")
        settings = cluster_settings(cluster, root)
        es = make_client(settings)
        wait_green(es, 120)
        embedder = load_embedder(settings)
        started = time.monotonic()
        count = build_sample(settings, es, embedder, root, args.size)
        wait_green(es)
        print(f"built {count} products as {settings.prefix} (3 shards, 1 replica) "
              f"in {time.monotonic() - started:.0f} s")
        fault = kill_under_load(settings, cluster, embedder, root, before_s=args.before, during_s=args.during,
                                threads=args.threads)
        print("\nnode killed under load:")
        print_node_fault(fault)
        if not args.no_build:
            print("\nnode killed during a full build:")
            print_build_fault(build_while_node_dies(settings, cluster, root, size=args.build_size))
    finally:
        if settings is not None:
            try:
                drop(make_client(settings), settings.prefix)
            except Exception as exc:  # noqa: BLE001  cleanup is best effort; say what was left
                print(f"could not drop {settings.prefix}-*: {exc}", file=sys.stderr)
        if own:
            cluster.close()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

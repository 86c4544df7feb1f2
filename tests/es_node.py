"""An Elasticsearch node of a test's own, for tests that stop, kill or pause it.

`scripts/es-local` runs it on a free port (and its transport port, `port + 100`, free too), so it
never clashes with the shared node on 9200 nor with another test run's node. It lives in a fresh
directory under /tmp (reachable by the node's system user when running as root) that links the
distribution es-local already fetched; without a fetched one, the default directory is used
(es-local fetches there once) and only this node's directory is removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "es-local"


def default_base() -> Path:
    """Where es-local keeps the distribution and nodes unless told otherwise (mirrors the script)."""
    if os.environ.get("STORESEARCH_ES_DIR"):
        return Path(os.environ["STORESEARCH_ES_DIR"])
    if os.geteuid() == 0:
        return Path("/var/tmp/storesearch-es")
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "storesearch" / "es"


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """An HTTP port that is free, with its transport port (`+ 100`, see es-local) free as well."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port + 100 <= 65535 and _bindable(port + 100):
            return port
    raise RuntimeError("no free port pair for a test Elasticsearch node")



def kill_and_wait(pid: int) -> None:
    """SIGKILL `pid` and wait until it is gone (reaped by init, not by us: polled, 10 s at most)."""
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)

class LocalNode:
    """One es-local node: start/stop through the script, kill/pause/resume by its pid."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        version = os.environ.get("ES_VERSION", "8.19.8")
        distribution = default_base() / f"elasticsearch-{version}"
        self._own_base = (distribution / "bin" / "elasticsearch").exists()
        if self._own_base:
            self.base = Path(tempfile.mkdtemp(prefix="storesearch-es-", dir="/tmp"))
            (self.base / distribution.name).symlink_to(distribution)
        else:
            self.base = default_base()
        self.env = {**os.environ, "ES_PORT": str(self.port), "STORESEARCH_ES_DIR": str(self.base)}

    def run(self, action: str) -> None:
        """`scripts/es-local <action>` for this node (start waits until it answers)."""
        subprocess.run([str(SCRIPT), action], env=self.env, check=True, capture_output=True, timeout=240)

    def pid(self) -> int:
        """The node's process id (from the pid file the script asked Elasticsearch to write)."""
        return int((self.base / f"node-{self.port}" / "es.pid").read_text().strip())

    def signal(self, signum: int) -> None:
        """Send `signum` to this node's process only."""
        os.kill(self.pid(), signum)

    def kill(self) -> None:
        """SIGKILL: the node vanishes mid-request, as in a crash or an OOM kill."""
        kill_and_wait(self.pid())

    def close(self) -> None:
        """Stop the node (resuming it first, should a test have paused it) and remove its files."""
        try:
            self.signal(signal.SIGCONT)
        except (OSError, ValueError):
            pass
        try:
            self.run("stop")
        finally:
            shutil.rmtree(self.base if self._own_base else self.base / f"node-{self.port}", ignore_errors=True)


def free_port_run(count: int) -> int:
    """The first of `count` consecutive free HTTP ports whose transport ports (`+ 100`) are free too."""
    for _ in range(200):
        first = free_port()
        if first + count - 1 + 100 <= 65535 and all(
                _bindable(first + i) and _bindable(first + i + 100) for i in range(count)):
            return first
    raise RuntimeError(f"no run of {count} free port pairs for a test Elasticsearch cluster")


class LocalCluster:
    """An es-local cluster of `count` nodes of a test's (or benchmark's) own: start, kill and restart nodes.

    `port`/`base` name an existing one (`ES_PORT`, `STORESEARCH_ES_DIR` of `scripts/es-local start
    --nodes N`); without them it gets free ports and a fresh directory under /tmp, like `LocalNode`.
    """

    def __init__(self, count: int, *, port: int | None = None, base: Path | None = None,
                 heap: str = "1g") -> None:
        self.count = count
        self.port = port if port is not None else free_port_run(count)
        version = os.environ.get("ES_VERSION", "8.19.8")
        distribution = default_base() / f"elasticsearch-{version}"
        self._own_base = base is None and (distribution / "bin" / "elasticsearch").exists()
        if base is not None:
            self.base = base
        elif self._own_base:
            self.base = Path(tempfile.mkdtemp(prefix="storesearch-cluster-", dir="/tmp"))
            (self.base / distribution.name).symlink_to(distribution)
        else:
            self.base = default_base()
        self.urls = [f"http://127.0.0.1:{self.port + i}" for i in range(count)]
        self.url = ",".join(self.urls)
        self.env = {**os.environ, "ES_PORT": str(self.port), "STORESEARCH_ES_DIR": str(self.base),
                    "ES_HEAP": heap, "ES_NODES": str(count)}

    def run(self, action: str, timeout: float = 300) -> str:
        """`scripts/es-local <action> --nodes N`; `start` starts the nodes that are down and waits for all."""
        done = subprocess.run([str(SCRIPT), action, "--nodes", str(self.count)], env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"es-local {action} --nodes {self.count} failed ({done.returncode}): "
                               f"{done.stderr.strip()[-2000:]}")
        return done.stdout.strip()

    def pid(self, node: int) -> int:
        """Node `node`'s process id (0-based: node i listens on port + i)."""
        return int((self.base / f"node-{self.port + node}" / "es.pid").read_text().strip())

    def kill(self, node: int) -> None:
        """SIGKILL node `node` and wait until its process is gone (a crash, an OOM kill)."""
        kill_and_wait(self.pid(node))

    def close(self) -> None:
        """Stop every node; remove the directory when it is this object's own."""
        try:
            self.run("stop")
        finally:
            if self._own_base:
                shutil.rmtree(self.base, ignore_errors=True)

"""The console scripts (`indexer`, `search-api`) as real subprocesses: their exit codes, output and effects."""

from __future__ import annotations

import subprocess
import sys

from search_api.core.settings import ApiSettings
from tests.serving import REPO, server_env

COMMAND_TIMEOUT_S = 300.0
"""A build of a few thousand products on a busy 2-core machine, model load included."""

MODULES = {"indexer": "indexer.cli", "search-api": "search_api.cli"}


def command_env(settings: ApiSettings, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a command that uses `settings`' index, locks and directories.

    The torch encoder: the session's reference model (tests/conftest.py `model`), so a command's
    embeddings and cache entries are those of in-process builds, and no ONNX export is made into
    each test's own cache directory (~20 s each).
    """
    return server_env(settings, STORESEARCH_ENCODER="torch",
                      STORESEARCH_LOCK_STALE_SECONDS=str(settings.lock_stale_seconds), **(extra or {}))


def start(settings: ApiSettings, program: str, *args: str,
          env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`program ARGS` started against `settings`' index, stdout and stderr piped."""
    return subprocess.Popen([sys.executable, "-m", MODULES[program], *args], env=command_env(settings, env),
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Wait for a started command (killed, and the test failed, past `timeout` seconds)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"{proc.args} still running after {timeout:.0f} s:\n{err[-2000:]}") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def run(settings: ApiSettings, program: str, *args: str,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `program ARGS` to its end against `settings`' index."""
    return finish(start(settings, program, *args, env=env))


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    """The stdout of a command that must have exited 0 (its stderr is the failure message)."""
    assert result.returncode == 0, f"exit {result.returncode}:\n{result.stderr[-3000:]}"
    return result.stdout


def refused(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The one stderr line of a command that must have failed with exit `code` (1 failure, 2 usage)."""
    assert result.returncode == code, f"exit {result.returncode}, not {code}:\n{result.stderr[-3000:]}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr[-3000:]}"
    return lines[0]

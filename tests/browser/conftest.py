"""Fixtures of the browser tests: a served API on a small sample with personas, and Debian's Chromium.

Playwright drives the system `chromium` (`scripts/browser` installs it; `playwright install` is
never used). In CI (CI=true) a missing browser or Playwright fails the run; elsewhere the tests
are skipped with the reason. Every test leaves a full-page screenshot in `test-artifacts/`.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from indexer.build.pipeline import BuildOptions, build
from indexer.sample import generate
from tests.conftest import IN_CI, drop_prefix, fresh_settings
from tests.serving import REPO, Served

KEY = "browser-test-key"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
UI_TIMEOUT_MS = 20_000
"""A search on the shared 2-core machine answers in tens of milliseconds; this only bounds a hang."""


def _missing(reason: str) -> None:
    message = f"{reason} (run scripts/browser to install Debian's chromium and the playwright package)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class Site:
    """A served API on the sample: its base URL, the key it accepts and the sample's personas."""

    url: str
    key: str
    personas: list[dict[str, Any]]
    server: Served

    def api(self, method: str, route: str, body: Any = None, *, key: bool = False) -> tuple[int, Any]:
        """One JSON request to the served API."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + route, data=data, method=method,
                                         headers={"Content-Type": "application/json",
                                                  **({"X-API-Key": self.key} if key else {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture(scope="session")
def site(es, es_url, model, tmp_path_factory) -> Iterator[Site]:
    """`search-api serve` (one worker) on a 300-product sample with 10 personas and an admin key."""
    root = tmp_path_factory.mktemp("browser")
    paths = generate.write(root / "catalog", 300, seed=11, personas=10)
    settings = fresh_settings(es_url, root)
    build(settings, es, model, BuildOptions(products=(paths["products"],), brand_keywords=(paths["brand_keywords"],),
                                            progress=False))
    server = Served(settings, root / "server.log", "--workers", "1", STORESEARCH_API_KEY=KEY,
                    STORESEARCH_PERSONAS_FILE=str(paths["personas"]))
    personas = [json.loads(line) for line in paths["personas"].read_text(encoding="utf-8").splitlines()]
    try:
        yield Site(f"http://127.0.0.1:{server.port}", KEY, personas, server)
    finally:
        server.stop()
        drop_prefix(es, settings.prefix)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright, headless."""
    executable = shutil.which("chromium")
    if executable is None:
        _missing("no chromium on PATH")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, request) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page; uncaught script errors fail the test; a screenshot at the end."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(UI_TIMEOUT_MS)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def shot(tab: Any, name: str) -> Path:
    """A screenshot of `tab` under test-artifacts/ (for steps before the end of a test)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path

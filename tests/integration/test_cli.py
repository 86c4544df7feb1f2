"""The `indexer` command line: exit codes and one-line reasons."""

from __future__ import annotations

import json

import pytest

from indexer.cli import main
from indexer.store.versions import alias_target

pytestmark = pytest.mark.integration


@pytest.fixture
def env(monkeypatch, isolated):
    monkeypatch.setenv("ES_URL", isolated.es_url)
    monkeypatch.setenv("STORESEARCH_PREFIX", isolated.prefix)
    monkeypatch.setenv("STORESEARCH_VECTORS_DIR", str(isolated.vectors_dir))
    monkeypatch.setenv("STORESEARCH_CACHE_DIR", str(isolated.cache_dir))
    return isolated


def test_sample_then_build_then_versions(env, es, tmp_path, capsys):
    assert main(["sample", "--size", "60", "--out", str(tmp_path / "cat")]) == 0
    assert main(["build", str(tmp_path / "cat" / "products.jsonl"), "--brand-keywords",
                 str(tmp_path / "cat" / "brand_keywords.jsonl"), "--no-progress",
                 "--reject-dir", str(tmp_path / "rep")]) == 0
    out = capsys.readouterr().out
    assert "60 indexed of 60 rows, 0 rejected" in out and "docs/s" in out
    live = alias_target(es, env.products_alias)
    assert live and live in out
    assert main(["versions"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if live in x)
    assert line.startswith("* ") and line.split()[2:4] == ["live", "60"]
    # the same catalog again: cloned from the live version, nothing written
    assert main(["build", str(tmp_path / "cat" / "products.jsonl"), "--no-progress",
                 "--reject-dir", str(tmp_path / "rep")]) == 0
    assert f"started from   a clone of {live}: 0 products written, 0 removed" in capsys.readouterr().out
    assert main(["versions"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("* "))
    assert f"clone of {live}: 0 written, 0 removed" in line


def test_failures_exit_nonzero_with_one_line(env, es, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n" + json.dumps({"id": "1"}) + "\n", encoding="utf-8")
    assert main(["build", str(bad), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("indexer: error: no usable product") and "\n" not in err
    assert main(["build", str(tmp_path / "missing.jsonl"), "--no-progress"]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["build", str(bad), "--max-reject-ratio", "2"]) == 2
    assert main(["sample", "--size", "0"]) == 2
    assert alias_target(es, env.products_alias) is None


def test_bad_environment_is_exit_2(monkeypatch, capsys):
    monkeypatch.setenv("STORESEARCH_PREFIX", "Not Valid")
    assert main(["versions"]) == 2
    assert "STORESEARCH_PREFIX" in capsys.readouterr().err

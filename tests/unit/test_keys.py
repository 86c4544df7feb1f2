"""API keys: hashing, the keys file, the key ring's reloads (fake clock) and `search-api keys`."""

from __future__ import annotations

import json
import logging
import os
import stat

import pytest

from indexer.index_format import ConfigError
from search_api.cli import main
from search_api.core.credentials import ADMIN, AUDITS, EVENTS_WRITE, PROFILES_READ, Caller, hash_key, new_key
from search_api.core.settings import ApiSettings
from search_api.http import keyfile
from search_api.http.keyring import LEGACY_ID, KeyRing


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def line(key_id: str, key: str, *scopes: str) -> str:
    return json.dumps({"id": key_id, "hash": hash_key(key), "scopes": list(scopes)})


def test_keys_are_random_and_stored_as_sha256():
    a, b = new_key(), new_key()
    assert a != b and a.startswith("ssk_") and len(a) >= 40
    assert hash_key("secret") == "sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"


def test_admin_implies_every_scope():
    assert Caller("a", frozenset({ADMIN})).can(AUDITS)
    writer = Caller("w", frozenset({EVENTS_WRITE}))
    assert writer.can(EVENTS_WRITE) and not writer.can(PROFILES_READ) and not writer.can(ADMIN)


def test_the_file_names_each_bad_line_and_keeps_the_good_ones():
    text = "\n".join([
        "# feed keys", "", line("feed", "k1", EVENTS_WRITE),
        '{"id": "x", "hash": "k2-in-plain", "scopes": ["audits"]}',
        line("ops", "k3", "delete:everything"), line("feed", "k4", AUDITS), "not json",
        json.dumps({"id": "y", "hash": hash_key("k5"), "scopes": []}),
        json.dumps({"id": "z", "hash": hash_key("k6"), "scopes": ["audits"], "scope": "admin"}),
        line("bad id!", "k7", AUDITS), line("reader", "k8", PROFILES_READ, PROFILES_READ)])
    entries, problems = keyfile.parse(text, "keys.jsonl")
    assert [(e.id, e.scopes) for e in entries] == [("feed", (EVENTS_WRITE,)), ("reader", (PROFILES_READ,))]
    assert [p.split(": ", 1)[0] for p in problems] == [f"keys.jsonl:{n}" for n in (4, 5, 6, 7, 8, 9, 10)]
    assert "hash: must be sha256:" in problems[0] and "unknown scope 'delete:everything'" in problems[1]
    assert "appears twice" in problems[2] and "not a JSON object" in problems[3] and "scopes" in problems[4]
    assert "scope: Extra inputs" in problems[5] and problems[6].startswith("keys.jsonl:10: id")


def test_reading_a_broken_file_is_a_config_error(tmp_path):
    path = tmp_path / "keys.jsonl"
    path.write_text(line("a", "k", AUDITS) + "\n{oops\n")
    with pytest.raises(ConfigError, match=r"keys.jsonl:2: not a JSON object"):
        keyfile.read(path)
    with pytest.raises(ConfigError, match="keys.jsonl:2"):
        KeyRing(path, None)
    with pytest.raises(ConfigError, match="STORESEARCH_API_KEYS_FILE: no such file"):
        KeyRing(tmp_path / "missing.jsonl", None)


def test_the_ring_matches_keys_and_the_legacy_key_has_every_scope(tmp_path):
    path = tmp_path / "keys.jsonl"
    path.write_text(line("feed", "k1", EVENTS_WRITE) + "\n" + line("ops", "k2", ADMIN) + "\n")
    ring = KeyRing(path, hash_key("old"))
    assert ring.identify("k1") == Caller("feed", frozenset({EVENTS_WRITE}))
    assert ring.identify("k2").can(AUDITS)
    assert ring.identify("old") == Caller(LEGACY_ID, frozenset({ADMIN}))
    assert ring.identify("k3") is None and ring.identify("") is None and ring.configured
    assert not KeyRing(None, None).configured


def test_rotation_needs_no_restart_and_is_checked_at_most_once_a_second(tmp_path):
    path = tmp_path / "keys.jsonl"
    path.write_text(line("feed", "old", EVENTS_WRITE) + "\n")
    clock = Clock()
    ring = KeyRing(path, None, clock=clock)
    assert ring.identify("old")
    path.write_text(line("feed", "new!", EVENTS_WRITE) + "\n")
    clock.now = 0.9
    assert ring.identify("old") and not ring.identify("new!")  # not looked at yet
    clock.now = 1.0
    assert ring.identify("new!") and not ring.identify("old")


def test_a_file_broken_later_keeps_its_valid_lines_and_a_removed_file_accepts_nothing(tmp_path, caplog):
    path = tmp_path / "keys.jsonl"
    path.write_text(line("a", "ka", AUDITS) + "\n" + line("b", "kb", AUDITS) + "\n")
    clock = Clock()
    ring = KeyRing(path, hash_key("legacy"), clock=clock)
    path.write_text(line("a", "ka", AUDITS) + "\n{half a line\n")  # b revoked, with a typo elsewhere
    clock.now += 1
    with caplog.at_level(logging.ERROR):
        assert ring.identify("ka") and not ring.identify("kb")
    assert "keys.jsonl:2" in caplog.text
    path.unlink()
    clock.now += 1
    assert not ring.identify("ka") and ring.identify("legacy")
    path.write_text(line("c", "kc", AUDITS) + "\n")
    clock.now += 1
    assert ring.identify("kc")


def test_the_legacy_setting_keeps_only_the_hash():
    settings = ApiSettings.from_env({"STORESEARCH_API_KEY": "secret"})
    assert settings.api_key == hash_key("secret") and "secret" not in repr(settings) + str(settings.model_dump())
    assert settings.with_(prefix="other").api_key == hash_key("secret")  # not hashed twice
    assert ApiSettings(api_key=hash_key("secret")).api_key == hash_key("secret")  # a hash may be configured
    assert ApiSettings(api_key="").api_key is None


def test_settings_name_a_bad_rate_or_proxy_count():
    with pytest.raises(ConfigError, match="STORESEARCH_RATE_SEARCH_KEYED: .*50/s burst 100"):
        ApiSettings.from_env({"STORESEARCH_RATE_SEARCH_KEYED": "lots"})
    with pytest.raises(ConfigError, match="STORESEARCH_TRUSTED_PROXIES"):
        ApiSettings.from_env({"STORESEARCH_TRUSTED_PROXIES": "-1"})
    assert ApiSettings.from_env({"STORESEARCH_RATE_EVENTS": "off"}).rate_events == "off"


def keys(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["keys", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_add_rotate_revoke_list(tmp_path, capsys, monkeypatch):
    path = tmp_path / "conf" / "keys.jsonl"
    monkeypatch.setenv("STORESEARCH_API_KEYS_FILE", str(path))
    code, out, err = keys(capsys, "add", "--id", "feed", "--scopes", "events:write,profiles:read")
    key = out.strip()
    assert code == 0 and key.startswith("ssk_") and "\n" not in key and "shown only now" in err
    assert key not in path.read_text() and hash_key(key) in path.read_text()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keys(capsys, "add", "--id", "ops", "--scopes", "admin")[0] == 0
    assert KeyRing(path, None).identify(key) == Caller("feed", frozenset({EVENTS_WRITE, PROFILES_READ}))

    code, out, _ = keys(capsys, "rotate", "--id", "feed")
    rotated = out.strip()
    ring = KeyRing(path, None)
    assert code == 0 and rotated != key and ring.identify(key) is None
    assert ring.identify(rotated) == Caller("feed", frozenset({EVENTS_WRITE, PROFILES_READ}))  # same scopes

    code, out, _ = keys(capsys, "list")
    assert code == 0 and [row.split("\t")[:2] for row in out.splitlines()] == [
        ["feed", "events:write,profiles:read"], ["ops", "admin"]]
    assert rotated not in out and "sha256:" in out

    assert keys(capsys, "revoke", "--id", "feed")[0] == 0
    assert KeyRing(path, None).identify(rotated) is None and [e.id for e in keyfile.read(path)] == ["ops"]


@pytest.mark.parametrize(("args", "message"), [
    (["add", "--id", "ops", "--scopes", "admin"], "exists: rotate or revoke it"),
    (["add", "--id", "new", "--scopes", "root"], "unknown scope 'root'"),
    (["add", "--id", "no spaces", "--scopes", "audits"], "invalid key: id"),
    (["rotate", "--id", "ghost"], "no key with id 'ghost'"),
    (["revoke", "--id", "ghost"], "no key with id 'ghost'"),
])
def test_cli_refusals_exit_2_and_change_nothing(tmp_path, capsys, args, message):
    path = tmp_path / "keys.jsonl"
    assert keys(capsys, "add", "--file", str(path), "--id", "ops", "--scopes", "admin")[0] == 0
    before = path.read_text()
    code, out, err = keys(capsys, *args, "--file", str(path))
    assert code == 2 and message in err and out == "" and path.read_text() == before


def test_cli_needs_a_file(capsys, monkeypatch):
    monkeypatch.delenv("STORESEARCH_API_KEYS_FILE", raising=False)
    code, _, err = keys(capsys, "list")
    assert code == 2 and "STORESEARCH_API_KEYS_FILE" in err

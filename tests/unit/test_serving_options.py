"""Serving options and gunicorn's own error answers, without a server or Elasticsearch."""

from __future__ import annotations

import json
import socket

import pytest

from indexer.core.errors import ConfigError
from search_api.cli import main
from search_api.core.settings import ApiSettings
from search_api.http.app import create_app
from search_api.http.prefork import SILENT_WORKER_S, JsonErrorWorker, PreforkServer, write_json_error
from search_api.http.serve import ServeOptions, serve
from search_api.retrieval.runtime import Runtime
from tests.serving import read_response

OFFLINE = {"es_url": "http://127.0.0.1:1", "vectors_dir": "/nonexistent", "sync_seconds": 0}


def written_error(status: int, reason: str, detail: str) -> tuple[str, dict[str, str], dict]:
    left, right = socket.socketpair()
    with left, right:
        write_json_error(left, status, reason, detail)
        left.shutdown(socket.SHUT_WR)
        status_line, headers, body = read_response(right)
    assert int(headers["content-length"]) == len(body)
    return status_line, headers, json.loads(body)


def test_gunicorn_errors_are_the_api_json_without_the_clients_bytes():
    status, headers, body = written_error(400, "Bad Request", "Invalid Request Line 'GET /search?q=\xff\xfe HTTP/1.1'")
    assert status == "HTTP/1.1 400 Bad Request"
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert headers["x-frame-options"] == "DENY" and headers["content-security-policy"].startswith("default-src")
    assert body == {"error": {"code": "bad_request", "message": "Bad Request: Invalid Request Line"}}


@pytest.mark.parametrize(("status", "reason", "detail", "code", "message"), [
    (414, "URI Too Long", "Request Line is too large (5014 > 4094)", "uri_too_long",
     "URI Too Long: Request Line is too large (5014 > 4094)"),
    (431, "Request Header Fields Too Large", "Error parsing headers: 'x'", "header_fields_too_large",
     "Request Header Fields Too Large: Error parsing headers"),
    (500, "Internal Server Error", "", "internal_error", "Internal Server Error"),
])
def test_each_gunicorn_status_gets_its_code(status, reason, detail, code, message):
    assert written_error(status, reason, detail)[2] == {"error": {"code": code, "message": message}}


def test_the_prefork_server_is_configured_for_shared_state_and_no_control_socket():
    settings = ApiSettings(**OFFLINE)
    rt = Runtime(settings)
    server = PreforkServer(create_app(settings, runtime=rt), rt, bind="127.0.0.1:0", workers=3, threads=5,
                           graceful_timeout_s=7)
    cfg = server.cfg
    assert cfg.worker_class is JsonErrorWorker and cfg.preload_app and cfg.control_socket_disable
    assert (cfg.workers, cfg.threads, cfg.graceful_timeout, cfg.bind) == (3, 5, 7, ["127.0.0.1:0"])
    assert cfg.accesslog is None and cfg.timeout == SILENT_WORKER_S
    assert "es" not in rt.__dict__ and not rt.embedder_loaded  # configuring loads and opens nothing


@pytest.mark.parametrize(("env", "var"), [({"STORESEARCH_WORKERS": "0"}, "STORESEARCH_WORKERS"),
                                          ({"STORESEARCH_SERVER": "uwsgi"}, "STORESEARCH_SERVER"),
                                          ({"STORESEARCH_THREADS": "0"}, "STORESEARCH_THREADS"),
                                          ({"STORESEARCH_GRACEFUL_TIMEOUT_S": "soon"}, "STORESEARCH_GRACEFUL_TIMEOUT_S")])
def test_bad_serving_settings_name_their_variable(env, var):
    with pytest.raises(ConfigError, match=var):
        ApiSettings.from_env(env)


def test_serving_settings_defaults_and_env():
    assert (ApiSettings().api_server, ApiSettings().api_workers, ApiSettings().api_threads) == ("gunicorn", 2, None)
    settings = ApiSettings.from_env({"STORESEARCH_SERVER": "waitress", "STORESEARCH_WORKERS": "1",
                                     "STORESEARCH_THREADS": "6", "STORESEARCH_GRACEFUL_TIMEOUT_S": "9"})
    assert (settings.api_server, settings.api_workers, settings.api_threads, settings.graceful_timeout_s) == (
        "waitress", 1, 6, 9)


def test_waitress_with_several_workers_is_refused_before_anything_loads():
    with pytest.raises(ConfigError, match="waitress server runs one process"):
        serve(ApiSettings(**OFFLINE), ServeOptions(server="waitress", workers=2))
    with pytest.raises(ConfigError, match="waitress"):  # asked for in the environment
        serve(ApiSettings(**OFFLINE, api_server="waitress", api_workers=3), ServeOptions())


@pytest.mark.parametrize(("argv", "message"), [
    (["--server", "waitress", "--workers", "2"], "the waitress server runs one process"),
    (["--workers", "0"], "--workers and --threads must be at least 1"),
    (["--threads", "0"], "--workers and --threads must be at least 1"),
])
def test_serve_usage_errors_exit_2(monkeypatch, capsys, argv, message):
    for var in ("STORESEARCH_SERVER", "STORESEARCH_WORKERS", "STORESEARCH_THREADS"):
        monkeypatch.delenv(var, raising=False)
    assert main(["serve", *argv]) == 2
    assert message in capsys.readouterr().err

"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from indexer.index_format import IndexerError
from search_api.core.errors import ApiError, Unavailable
from search_api.core.settings import ApiSettings
from search_api.http import access, browser_session, headers
from search_api.http import metrics as http_metrics
from search_api.http.admin_routes import bp as admin_bp
from search_api.http.analytics_routes import bp as analytics_bp
from search_api.http.audit_routes import bp as audits_bp
from search_api.http.contract import bp as contract_bp
from search_api.http.json_body import BoundedRequest, GuardedJSONProvider
from search_api.http.pages import bp as pages_bp
from search_api.http.routes import bp
from search_api.http.rule_routes import bp as rules_bp
from search_api.retrieval.runtime import Runtime

log = logging.getLogger(__name__)
EXTENSION = "storesearch"
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
              415: "unsupported_media_type"}


def create_app(settings: ApiSettings | None = None, *, runtime: Runtime | None = None) -> Flask:
    """Build the app; heavy objects live in `app.extensions["storesearch"]` and load lazily.

    Building the app opens no connection and loads no model (it reads the API keys file and the
    synonym file, if set).

    Raises:
        ConfigError: the API keys file or the synonym file is set but missing or invalid.

    """
    app = Flask(__name__)
    app.request_class = BoundedRequest
    rt = runtime or Runtime(settings or ApiSettings.from_env())
    app.json = GuardedJSONProvider(app)
    app.json.max_depth = rt.settings.max_json_depth  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = rt.settings.max_body_bytes
    app.extensions[EXTENSION] = rt
    _ = rt.synonyms  # a bad synonym file stops the start, naming file:line
    app.register_blueprint(bp)
    app.register_blueprint(audits_bp)
    app.register_blueprint(analytics_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(rules_bp)
    app.register_blueprint(contract_bp)
    app.register_blueprint(http_metrics.bp)
    app.register_blueprint(pages_bp)
    browser_session.install(app, rt.settings)
    headers.install(app, rt.settings.cors_origins)
    access.install(app, rt.settings)
    _error_handlers(app)
    http_metrics.install(app)  # last: its clock starts before every other before-request hook
    return app


def _error_handlers(app: Flask) -> None:
    """Every error is JSON; a 5xx says nothing of Elasticsearch (the log has the detail)."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):  # type: ignore[no-untyped-def]
        if exc.status >= 500:
            log.warning("%s %.200r answered %d: %s", request.method, request.path, exc.status, exc.message)
        return jsonify(exc.body()), exc.status, exc.headers()

    @app.errorhandler(IndexerError)
    def _engine_error(exc: IndexerError):  # type: ignore[no-untyped-def]
        return _api_error(Unavailable(f"storage unavailable: {exc}"))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        error = {"code": HTTP_CODES.get(exc.code or 500, "http_error"), "message": exc.description}
        if exc.code == 413:
            error.update(message=f"body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes", field="body")
        # the exception's own headers (a 405's `Allow`, RFC 9110 §15.5.6), not its HTML content type
        kept = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
        return jsonify({"error": error}), exc.code, kept

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error")
        return jsonify({"error": {"code": "internal_error", "message": "internal error"}}), 500

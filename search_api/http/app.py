"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from indexer.index_format import IndexerError
from search_api.core.errors import ApiError, Unavailable
from search_api.core.settings import ApiSettings
from search_api.http.audit_routes import bp as audits_bp
from search_api.http.contract import bp as contract_bp
from search_api.http.routes import bp
from search_api.retrieval.runtime import Runtime

log = logging.getLogger(__name__)
EXTENSION = "storesearch"
MAX_BODY_BYTES = 8 * 1024 * 1024
"""A full events batch (1,000 events of ~200 bytes) is ~0.2 MB; anything near this is abuse."""


def create_app(settings: ApiSettings | None = None, *, runtime: Runtime | None = None) -> Flask:
    """Build the app; heavy objects live in `app.extensions["storesearch"]` and load lazily.

    Building the app opens no connection and loads no model.
    """
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions[EXTENSION] = runtime or Runtime(settings or ApiSettings.from_env())
    app.register_blueprint(bp)
    app.register_blueprint(audits_bp)
    app.register_blueprint(contract_bp)

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):  # type: ignore[no-untyped-def]
        return jsonify(exc.body()), exc.status

    @app.errorhandler(IndexerError)
    def _engine_error(exc: IndexerError):  # type: ignore[no-untyped-def]
        error = Unavailable(f"storage unavailable: {exc}")
        return jsonify(error.body()), error.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
                415: "unsupported_media_type"}.get(
            exc.code or 500, "http_error")
        return jsonify({"error": {"code": code, "message": exc.description}}), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error")
        return jsonify({"error": {"code": "internal_error", "message": "internal error"}}), 500

    return app

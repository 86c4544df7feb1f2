"""Admin routes (API key with the scope `admin`): reload the synonyms without a restart."""

from __future__ import annotations

import os

from flask import Blueprint, current_app, jsonify

from search_api.core.credentials import ADMIN
from search_api.core.errors import InvalidSynonyms
from search_api.http.auth import require
from search_api.retrieval.runtime import Runtime
from search_api.synonyms.rules import SynonymError

bp = Blueprint("admin", __name__)


@bp.post("/admin/synonyms/reload")
def synonyms_reload():  # type: ignore[no-untyped-def]
    """Re-read the synonym file and brand-keyword aliases in this process; 422 naming file:line when refused.

    Under gunicorn the answering worker reloads at once; the others see a changed file within
    `STORESEARCH_SYNONYMS_CHECK_SECONDS` on their own.
    """
    require(ADMIN)
    rt: Runtime = current_app.extensions["storesearch"]
    try:
        status = rt.synonyms.reload()
    except SynonymError as exc:
        raise InvalidSynonyms(str(exc)) from None
    return jsonify({**status, "pid": os.getpid()})

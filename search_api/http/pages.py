"""The pages people use: the search page at `/` and the dashboard at `/dashboard`.

Both are server-rendered shells whose scripts (`static/*.js`, no build step, nothing from a CDN)
call the public API like any client: the search page `/search`, `/suggest`, `/clicks` and
`/personas`; the dashboard `/analytics` and `/audits` with its signed session
(`browser_session`). Without a valid session the dashboard renders only the key form, never
data. Each page carries a policy allowing its own scripts and stylesheets and nothing else.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for

from search_api.core.settings import ApiSettings
from search_api.http import auth, browser_session, personas

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/pages/static")

PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
"""A page may load its own scripts, styles and data, post its forms to itself, and nothing else."""

SAME_SITE_FORMS = frozenset({"same-origin", "none"})
"""`Sec-Fetch-Site` values of a form typed into this page (`none`: no browser context, e.g. curl without it)."""


def _page(template: str, **context: object) -> Response:
    response = Response(render_template(template, **context), mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


def _settings() -> ApiSettings:
    return current_app.extensions["storesearch"].settings  # type: ignore[no-any-return]


@bp.get("/")
def search_page() -> Response:
    """The shoppers' search page."""
    return _page("search.html")


@bp.get("/personas")
def personas_list():  # type: ignore[no-untyped-def]
    """The sample shoppers the page's persona switcher offers (empty unless STORESEARCH_PERSONAS_FILE is set)."""
    return jsonify({"personas": personas.load(_settings().personas_file)})


@bp.get("/dashboard")
def dashboard() -> Response:
    """The dashboard for a signed-in key; the key form otherwise."""
    who = browser_session.session_caller(auth.keyring())
    if who is None:
        return _page("dashboard_login.html", error=request.args.get("error"))
    return _page("dashboard.html", caller=who.id, scopes=sorted(who.scopes))


@bp.post("/dashboard/login")
def dashboard_login() -> Response:
    """Check the key of the form and keep its hash in the session; back to the dashboard either way.

    A form posted from another site is refused (its browser says so in `Sec-Fetch-Site`): it could
    only sign the visitor in with the other site's key.
    """
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in SAME_SITE_FORMS:
        return redirect(url_for("pages.dashboard", error="origin"), code=303)  # type: ignore[return-value]
    who = browser_session.sign_in(auth.keyring(), request.form.get("key", "").strip())
    target = url_for("pages.dashboard") if who else url_for("pages.dashboard", error="key")
    return redirect(target, code=303)  # type: ignore[return-value]


@bp.post("/dashboard/logout")
def dashboard_logout() -> Response:
    """Forget the session's key."""
    browser_session.sign_out()
    return redirect(url_for("pages.dashboard"), code=303)  # type: ignore[return-value]

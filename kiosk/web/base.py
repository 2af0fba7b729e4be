"""What every response gets: CSRF, security headers, no caching, friendly error pages, the locale."""

from __future__ import annotations

import sqlite3

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import Babel, format_currency, format_date, format_decimal, get_locale, get_translations
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from kiosk import logs
from kiosk.doctor import SCREEN_REPORT_SECONDS
from kiosk.pii import mask_email
from kiosk.settings import PROJECT_ROOT
from kiosk.web.keypad import secure_keypad_layout
from kiosk.wiring import Kiosk

csrf = CSRFProtect()
babel = Babel()

LANGUAGES = ("ko", "en")
# accessibility modes a customer can switch on (UX.md); each becomes a class on <html>
A11Y_MODES = ("large-text", "high-contrast", "low-position", "speech")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def current_kiosk() -> Kiosk:
    """The kiosk's parts, wired once at start-up (kiosk.wiring)."""
    return current_app.extensions["kiosk"]


def safe_next(target: str) -> str:
    """Where a language or accessibility switch returns to: a path of this app, else the attract screen.

    Never another site: no scheme, no host, no `//` or `/\\` (which browsers read as scheme-relative),
    and no control character (a header split, or a tab that browsers silently drop)."""
    if (not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target
            or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target)):
        return url_for("customer.attract")
    return target


def request_translations():
    translations = g.get("_kiosk_translations")
    if translations is None:
        translations = g._kiosk_translations = get_translations()
    return translations


def current_locale() -> str:
    lang = session.get("lang")
    return lang if lang in LANGUAGES else "ko"


def current_a11y() -> list[str]:
    """The accessibility modes switched on in this session, in a stable order."""
    chosen = session.get("a11y") or ()
    return [mode for mode in A11Y_MODES if mode in chosen]


KEYBOARDS = ("hangul", "qwerty", "numeric", "secure-numeric")


def keyboard_attrs(kind: str, **extra: str) -> dict[str, str]:
    """Attributes of an input typed on an on-screen keyboard (static/js/keyboard.js draws it).

    `inputmode=none` keeps any system keyboard away. The secure keypad's digit order is shuffled here,
    on the server, each time the field is rendered: a new order on every showing."""
    if kind not in KEYBOARDS:
        raise ValueError(f"unknown on-screen keyboard {kind!r}")
    attrs = {**extra, "inputmode": "none", "data-keyboard": kind}
    if kind == "secure-numeric":
        attrs["data-keypad-layout"] = ",".join(secure_keypad_layout())
    return attrs


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=current_locale,
        default_translation_directories=str(PROJECT_ROOT / "kiosk" / "translations"),
    )
    # Flask-Babel looks the catalog up again for every string; a page has dozens, so look it up once
    # per request (bench/latency.py: about a third of a page's render time went there)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals["get_locale"] = lambda: str(get_locale() or "ko")
    app.jinja_env.globals["format_date"] = format_date
    app.jinja_env.globals["format_decimal"] = format_decimal
    app.jinja_env.globals["format_currency"] = format_currency
    app.jinja_env.globals["keyboard_attrs"] = keyboard_attrs
    app.jinja_env.filters["mask_email"] = mask_email
    app.jinja_env.globals["screen_report_seconds"] = SCREEN_REPORT_SECONDS

    @app.context_processor
    def kiosk_context():
        settings = app.extensions["kiosk"].settings
        return {"idle_seconds": settings.idle_seconds, "warning_seconds": settings.idle_warning_seconds,
                "a11y_modes": current_a11y(), "all_a11y_modes": A11Y_MODES}

    @app.before_request
    def refuse_oversized_requests():
        # before any view runs, so that a redirect can never hide the refusal
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None and request.content_length > limit:
            abort(413)

    @app.after_request
    def harden(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), usb=()"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if not request.path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        if request.endpoint == "customer.reset":
            # the idle countdown and the server's own expiry race; either way the session is over
            return redirect(url_for("customer.attract"), code=303)
        logs.warning("http.csrf_failed", path=request.path, reason=error.description)
        return _error_page(400, "csrf"), 400

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code >= 500:
            logs.error("http.error", path=request.path, status=error.code)
        elif error.code != 404:
            logs.warning("http.client_error", path=request.path, status=error.code)
        return _error_page(error.code, "http"), error.code

    @app.errorhandler(sqlite3.OperationalError)
    def database_busy(error):
        # a locked or read-only database: the customer keeps their place and may try again
        logs.error("store.unavailable", path=request.path, reason=str(error))
        return _error_page(503, "busy"), 503

    @app.errorhandler(Exception)
    def unexpected(error):
        # the technician gets the traceback in the journal; the customer gets a polite screen
        logs.error("http.unhandled", exc_info=True, path=request.path, error=type(error).__name__)
        return _error_page(500, "http"), 500


def _error_page(status: int, kind: str):
    template = "error_fragment.html" if request.headers.get("HX-Request") else "error.html"
    return render_template(template, status=status, kind=kind)

"""What every response gets: CSRF, security headers, no caching, friendly error pages, the locale."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import Babel, format_currency, format_date, format_decimal, get_locale, get_translations
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from kiosk import logs
from kiosk.health.screen import SCREEN_REPORT_SECONDS
from kiosk.pii import mask_email
from kiosk.settings import PROJECT_ROOT
from kiosk.speech import DEFAULT_STEP, RATE_STEPS, VOLUME_STEPS
from kiosk.web.sessions import session_store
from kiosk.web.shared import keypad_layout, render_once
from kiosk.wiring import Kiosk

csrf = CSRFProtect()
babel = Babel()

SIGNED_CSRF = "csrf_token_signed"  # the session's key for (its CSRF token, that token signed)
LANGUAGES = ("ko", "en")
# accessibility modes a customer can switch on (UX.md); each becomes a class on <html>
A11Y_MODES = ("large-text", "high-contrast", "low-position", "speech")
VOICE_STEPS = (RATE_STEPS, VOLUME_STEPS)

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


SECURITY_HEADERS = (
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    # same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` on POSTs, and the
    # origin check (refuse_cross_origin_posts) could not tell our own pages from a sandboxed frame elsewhere
    ("Referrer-Policy", "same-origin"),
    # the identity step's camera (issue 25) for this origin's own pages only; the kiosk's browser policy
    # grants it to this origin alone, without a prompt (docs/install.md)
    ("Permissions-Policy", "camera=(self), microphone=(), geolocation=(), usb=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


_UNSAFE_IN_PATH = re.compile(r"[\\\x00-\x1f\x7f-\x9f\u2028\u2029]")


def local_path(target: str | None) -> str | None:
    """`target` when it is a path of this app, else None: the only check a `next` goes through.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so `/\t/evil.example`
    and `/\\evil.example` become `//evil.example`, another site. A path passes only when, after
    percent-decoding and NFKC (full-width `／` is `/`), it starts with one `/`, is not `//` or `/\\`,
    and holds no control character or backslash anywhere."""
    if not target or len(target) > 2048:
        return None
    decoded = unicodedata.normalize("NFKC", unquote(target))
    if not decoded.startswith("/") or decoded.startswith("//") or _UNSAFE_IN_PATH.search(decoded):
        return None
    if _UNSAFE_IN_PATH.search(target) or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def current_kiosk() -> Kiosk:
    """The kiosk's parts, wired once at start-up (kiosk.wiring)."""
    return current_app.extensions["kiosk"]


def safe_next(target: str) -> str:
    """Where a language or accessibility switch returns to: a path of this app (`local_path`), else
    the attract screen; a refused `next` is logged."""
    path = local_path(target)
    if path is None:
        if target:
            logs.warning("http.next_refused", path=request.path, length=len(target))
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


def current_voice() -> tuple[int, int]:
    """The voice's speed and volume steps this visit chose (indexes into kiosk.speech's RATE_STEPS and
    VOLUME_STEPS); the middle ones until the customer changes them."""
    chosen = session.get("voice") or ()
    if (isinstance(chosen, (list, tuple)) and len(chosen) == 2
            and all(isinstance(step, int) and 0 <= step < len(steps) for step, steps in zip(chosen, VOICE_STEPS, strict=True))):
        return chosen[0], chosen[1]
    return DEFAULT_STEP, DEFAULT_STEP


def screen_only() -> bool:
    """Whether this request swaps #screen through htmx, so that #screen alone is the answer.

    The page around #screen (head, scripts, settings of htmx, the screen report) is already on the
    glass; sending and parsing it again on every step was most of a swap's bytes (bench/tap.py). A
    history restore, a full load or any other target still gets the whole page (Vary: HX-Request)."""
    headers = request.headers
    return (headers.get("HX-Request") == "true" and headers.get("HX-Target") == "screen"
            and headers.get("HX-History-Restore-Request") != "true")


def same_for_everyone(key: tuple, render, values: dict[str, str] | None = None) -> Markup:
    """`render()` rendered once per `key`, language, set of modes and whole page or #screen alone, then
    only filled with this customer's CSRF token, keypad orders and `values` (kiosk/web/shared.py)."""
    return render_once((*key, current_locale(), tuple(current_a11y()), current_voice(), screen_only()), render,
                       values)


def shared_part(name: str, here: str = "") -> Markup:
    """A part of #screen that is the same for every customer in one language, set of modes and place
    (`here`): the settings bar and the actions bar.

    Only places from a fixed set are kept (the attract screen and the journey's steps), so that the
    cache holds no entry for whatever other path is asked for; any other place is rendered every time."""
    if here not in _shared_places():
        return Markup(render_template(name, here=here))
    return same_for_everyone((name, here), lambda: render_template(name, here=here))


def voice_context() -> dict:
    """What the page and the settings bar need of the voice: the rate and volume to speak with, and the
    steps (1-5) shown beside the controls."""
    rate, volume = current_voice()
    return {"rate": RATE_STEPS[rate], "volume": VOLUME_STEPS[volume], "rate_step": rate + 1,
            "volume_step": volume + 1, "steps": len(RATE_STEPS)}


def _shared_places() -> set[str]:
    from kiosk.journey import Step

    return {"", url_for("customer.attract")} | {url_for("customer.step", name=step.value) for step in Step}


KEYBOARDS = ("hangul", "qwerty", "numeric", "secure-numeric")


def keyboard_attrs(kind: str, **extra: str) -> dict[str, str]:
    """Attributes of an input typed on an on-screen keyboard (static/js/keyboard.js draws it).

    `inputmode=none` keeps any system keyboard away. The secure keypad's digit order is shuffled here,
    on the server, each time the field is shown (also when the screen was rendered once for everyone:
    kiosk/web/shared.py): a new order on every showing."""
    if kind not in KEYBOARDS:
        raise ValueError(f"unknown on-screen keyboard {kind!r}")
    attrs = {**extra, "inputmode": "none", "data-keyboard": kind}
    if kind == "secure-numeric":
        attrs["data-keypad-layout"] = keypad_layout()
    return attrs


def larger_body_limit(app: Flask) -> int | None:
    """The body this request's view takes beyond the app's limit (`max_body`, the identity step's capture)."""
    return getattr(app.view_functions.get(request.endpoint), "max_body", None)


def init_app(app: Flask) -> None:
    @app.before_request
    def bound_larger_bodies():
        """Before the CSRF check, which reads the form (and refuses a body past the app's limit): a view
        that takes a larger body gets it bounded at its own limit, and refuses more itself, politely."""
        larger = larger_body_limit(app)
        if larger is not None:
            request.max_content_length = larger

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
    app.jinja_env.globals["local_path"] = local_path
    app.jinja_env.filters["mask_email"] = mask_email
    app.jinja_env.globals["screen_report_seconds"] = SCREEN_REPORT_SECONDS
    app.jinja_env.globals["shared_part"] = shared_part

    @app.context_processor
    def kiosk_context():
        settings = app.extensions["kiosk"].settings
        return {"idle_seconds": settings.idle_seconds, "warning_seconds": settings.idle_warning_seconds,
                "a11y_modes": current_a11y(), "all_a11y_modes": A11Y_MODES, "voice": voice_context(),
                "usb_port_position": settings.usb_port_position, "screen_only": screen_only()}

    @app.before_request
    def reuse_signed_csrf_token():
        """Flask-WTF signs the session's CSRF token anew for every request (JSON, zlib and an HMAC: a
        sixth of a step's server time, bench/latency.py). With no time limit on tokens
        (WTF_CSRF_TIME_LIMIT=None) each signing is as good as the next, so a session keeps its first;
        `g.csrf_token` is where Flask-WTF looks before signing."""
        kept = session.get(SIGNED_CSRF)
        if kept and kept[0] == session.get("csrf_token"):
            g.csrf_token = kept[1]

    @app.before_request
    def refuse_oversized_requests():
        # before any view runs, so that a redirect can never hide the refusal (a view with a larger
        # limit refuses more itself: bound_larger_bodies)
        if larger_body_limit(app) is not None:
            return
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None and request.content_length > limit:
            abort(413)

    @app.before_request
    def refuse_cross_origin_posts():
        """Defence in depth beside the CSRF token: a browser names the page's origin on every POST
        (`Origin`; our pages send their own, see Referrer-Policy below). Another origin, or `null`
        (a sandboxed frame, a privacy-stripped request), is refused; a client that sends neither
        header is no browser and still needs the token."""
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        source = request.headers.get("Origin") or request.headers.get("Referer")
        if source is None or _same_origin(source, request.host_url):
            return None
        logs.warning("http.origin_refused", path=request.path, origin=source[:100])
        return _error_page(400, "csrf"), 400

    @app.after_request
    def keep_signed_csrf_token(response):
        signed, raw = g.get("csrf_token"), session.get("csrf_token")
        if signed and raw and session.get(SIGNED_CSRF) != (raw, signed):
            session[SIGNED_CSRF] = (raw, signed)
        return response

    @app.after_request
    def harden(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.extend(SECURITY_HEADERS)  # no view sets these: added, not replaced (a tenth of a step's time)
        if not request.path.startswith("/static/"):
            if "Cache-Control" not in headers:  # the CRL says how long it may be kept
                headers.extend(NO_STORE)
            headers.add("Vary", "HX-Request")  # a step's URL answers a fragment or a page (screen_only)
        return response

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        if request.endpoint == "customer.reset":
            # the idle countdown and the server's own expiry race, or an error page's token went stale:
            # either way the customer wants the visit over, and ending it is never harmful
            session_store().end_visit(session, "customer_reset")
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


def _same_origin(source: str, host_url: str) -> bool:
    theirs, ours = urlsplit(source), urlsplit(host_url)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)


def _error_page(status: int, kind: str):
    template = "error_fragment.html" if request.headers.get("HX-Request") else "error.html"
    return render_template(template, status=status, kind=kind)

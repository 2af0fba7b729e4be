"""/healthz for the technician (the doctor's checks as JSON), /healthz/live for the watchdog, and
/healthz/screen where the page on the touchscreen reports in."""

from __future__ import annotations

import hmac
import threading

from flask import Blueprint, current_app, jsonify, redirect, request, url_for

from kiosk import logs
from kiosk.health import doctor
from kiosk.health.screen import record_screen
from kiosk.web.base import current_kiosk

bp = Blueprint("health", __name__)


class OneReport:
    """The doctor's report, made by one request at a time. Its checks reach the CA, the mail server and
    the database, each with a timeout; sixteen callers at once held every worker thread for as long, and
    /healthz/live queued behind them past the watchdog's 5 s (issue 26, item 9). A caller that finds a
    report being made gets the last one, marked `stale`, at once (or 503 when there is none yet)."""

    def __init__(self) -> None:
        self._making = threading.Lock()
        self.last: dict | None = None

    def get(self, kiosk) -> tuple[dict, bool]:
        if not self._making.acquire(blocking=False):
            return ({**self.last, "stale": True} if self.last else
                    {"ok": False, "checks": [], "stale": True}), False
        try:
            self.last = doctor.report(doctor.run(kiosk))  # the server's own adapters
            return self.last, True
        finally:
            self._making.release()


@bp.get("/healthz")
def healthz():
    reports = current_app.extensions.setdefault("kiosk.health", OneReport())
    report, _fresh = reports.get(current_kiosk())
    return jsonify(report), (200 if report["ok"] else 503)


SCREEN_COOKIE = "kiosk_screen"


def screen_token(settings) -> str:
    """What the kiosk's own browser holds once enrolled: derived from KIOSK_SCREEN_KEY, never the key."""
    return hmac.new(settings.secret_key.encode(), b"screen:" + settings.screen_key.encode(), "sha256").hexdigest()


@bp.get("/healthz/screen/enrol")
def screen_enrol():
    """The browser unit's start URL carries KIOSK_SCREEN_KEY once: the browser gets an HttpOnly cookie
    only it holds, and the attract screen, without the key in its address."""
    settings = current_kiosk().settings
    response = redirect(url_for("customer.attract"), code=303)
    if settings.screen_key and hmac.compare_digest(request.args.get("key", ""), settings.screen_key):
        response.set_cookie(SCREEN_COOKIE, screen_token(settings), httponly=True, samesite="Strict",
                            path="/healthz/screen")
        logs.event("screen.enrolled")
    else:
        logs.warning("screen.refused", reason="enrol_key")
    return response


@bp.post("/healthz/screen")
def screen():
    """The page on the touchscreen reports in (templates/_page.html): the doctor's proof the browser
    lives. With KIOSK_SCREEN_KEY set, only the enrolled browser's report counts (issue 26, item 10): any
    local client can fetch a page and its CSRF token, none but that browser holds the cookie."""
    settings = current_kiosk().settings
    if settings.screen_key and not hmac.compare_digest(request.cookies.get(SCREEN_COOKIE, ""),
                                                       screen_token(settings)):
        logs.warning("screen.refused", reason="not_enrolled")
        return "", 403
    record_screen(settings)
    return "", 204


@bp.get("/healthz/live")
def live():
    """Cheap on purpose (the watchdog asks every few seconds): the app answers and its database reads."""
    current_kiosk().store.query_one("SELECT 1")
    return jsonify(ok=True)

"""/healthz for the technician (the doctor's checks as JSON), /healthz/live for the watchdog, and
/healthz/screen where the page on the touchscreen reports in."""

from __future__ import annotations

from flask import Blueprint, jsonify

from kiosk import doctor
from kiosk.web.base import current_kiosk

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    report = doctor.report(doctor.run(current_kiosk().settings))
    return jsonify(report), (200 if report["ok"] else 503)


@bp.post("/healthz/screen")
def screen():
    """The page on the touchscreen reports in (templates/base.html): the doctor's proof the browser lives."""
    doctor.record_screen(current_kiosk().settings)
    return "", 204


@bp.get("/healthz/live")
def live():
    """Cheap on purpose (the watchdog asks every few seconds): the app answers and its database reads."""
    current_kiosk().store.query_one("SELECT 1")
    return jsonify(ok=True)

"""/healthz for the watchdog and the technician."""

from __future__ import annotations

from flask import Blueprint, jsonify

from kiosk.services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    store = services().store
    try:
        store.check_current()
        checks = [{"name": "database", "ok": True, "detail": f"schema {store.version}"}]
    except Exception as exc:  # noqa: BLE001 - reported, not hidden: the check's whole point
        checks = [{"name": "database", "ok": False, "detail": str(exc)}]
    ok = all(c["ok"] for c in checks)
    return jsonify(ok=ok, checks=checks), (200 if ok else 503)

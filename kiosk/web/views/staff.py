"""/staff: the branch staff's console. Signed-in staff see the kiosk's state (no personal data) and
can reset the customer session, take the kiosk out of service, and lift a customer's lockout after
checking their ID in person. Every action is audited."""

from __future__ import annotations

import re
from functools import wraps

from flask import Blueprint, abort, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kiosk import logs
from kiosk.build import booted_slot, version
from kiosk.identity.ports import MAX_ACCOUNT_FAILURES
from kiosk.metrics import CONSOLE_COUNTS
from kiosk.pii import customer_key, mask_rrn
from kiosk.pki.held import CERTIFICATE_TRIES
from kiosk.staff import StaffSignInLocked
from kiosk.updates import SystemUpdates, UpdateRefused, UpdaterUnavailable
from kiosk.updates.offer import InstallState
from kiosk.web.base import current_kiosk
from kiosk.web.forms import digits_only
from kiosk.web.sessions import VISIT, session_store

bp = Blueprint("staff", __name__, url_prefix="/staff")
COOKIE = "kiosk_staff"
CONSOLE_SESSIONS = 10


def signed_in(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        name = current_kiosk().staff_gate.staff_for(request.cookies.get(COOKIE))
        if name is None:
            return redirect(url_for("staff.sign_in"), code=303)
        g.staff = name
        return view(*args, **kwargs)

    return wrapper


def audit(action: str, subject: str | None = None, detail: str = "") -> None:
    current_kiosk().audit.record(f"staff:{g.staff}", action, subject, detail)


@bp.get("/sign-in")
def sign_in():
    return render_template("staff/sign_in.html")


@bp.post("/sign-in")
def post_sign_in():
    svc = current_kiosk()
    name = (request.form.get("name") or "").strip()[:40]
    pin = digits_only(request.form.get("pin") or "")[:12]
    try:
        token = svc.staff_gate.sign_in(name, pin, source=request.remote_addr or "")
    except StaffSignInLocked as locked:
        logs.warning("staff.sign_in_locked", seconds_left=locked.seconds_left)
        message = _("로그인 실패가 5번 넘어 %(minutes)d분 동안 잠겼습니다.", minutes=(locked.seconds_left + 59) // 60)
        return render_template("staff/sign_in.html", message=message), 429
    if token is None:
        logs.warning("staff.sign_in_failed")
        svc.audit.record("system", "staff.sign_in_failed", subject=name)
        return render_template("staff/sign_in.html", message=_("이름 또는 PIN이 맞지 않습니다.")), 401
    svc.audit.record(f"staff:{name}", "staff.signed_in")
    logs.event("staff.signed_in", staff=name)
    response = redirect(url_for("staff.console"), code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/staff",
                        secure=request.is_secure)
    return response


@bp.post("/sign-out")
@signed_in
def sign_out():
    current_kiosk().staff_gate.sign_out(request.cookies.get(COOKIE))
    audit("staff.signed_out")
    response = redirect(url_for("staff.sign_in"), code=303)
    response.delete_cookie(COOKIE, path="/staff")
    return response


@bp.get("")
@bp.get("/")
@signed_in
def console():
    return render_template("staff/console.html", **console_state())


@bp.get("/state")
@signed_in
def state():
    return render_template("staff/_state.html", **console_state())


@bp.post("/reset")
@signed_in
def reset_session():
    ended = session_store().end_customer_sessions("staff_reset")
    audit("session.reset_by_staff", detail=f"sessions={ended}")
    logs.warning("session.reset_by_staff", staff=g.staff, sessions=ended)
    return console_response(_("고객 화면을 처음으로 돌렸습니다."))


@bp.post("/service")
@signed_in
def toggle_service():
    out = request.form.get("out_of_service") == "1"
    current_kiosk().state.set_out_of_service(out)
    if out:
        session_store().end_customer_sessions("out_of_service")
    audit("kiosk.out_of_service" if out else "kiosk.in_service")
    logs.warning("kiosk.out_of_service" if out else "kiosk.in_service", staff=g.staff)
    return console_response(_("점검 중으로 바꾸었습니다.") if out else _("운영을 다시 시작했습니다."))


@bp.post("/demo-drives/reinsert")
@signed_in
def reinsert_demo_drives():
    """Demo mode: the sticks the kiosk ejected after an issuance are plugged in again, to try the next
    service (재발급, 내 인증서 확인) without touching the data directory."""
    from hardware.demo import reinsert_ejected_demo_drives

    settings = current_kiosk().settings
    if not settings.is_demo or settings.drives_backend != "demo":
        abort(404)
    count = reinsert_ejected_demo_drives(settings.data_dir)
    audit("demo.drives_reinserted", detail=f"drives={count}")
    return console_response(_("데모 USB %(count)d개를 다시 꽂았습니다.", count=count))


@bp.post("/staff-call/clear")
@signed_in
def clear_staff_call():
    current_kiosk().state.staff_answered()
    audit("staff.call_answered")
    return console_response(_("호출을 확인했습니다."))


@bp.post("/unlock")
@signed_in
def unlock():
    """Staff type the resident number from the ID card in front of them; only its keyed hash is used."""
    svc = current_kiosk()
    rrn = digits_only(request.form.get("rrn", ""))
    if not re.fullmatch(r"[0-9]{13}", rrn):
        return console_response(_("주민등록번호 13자리를 입력해 주세요."), status=422)
    key = customer_key(svc.settings.customer_hash_key, rrn)
    if svc.lockouts.reset(key):
        audit("customer.unlocked", subject=key)
        logs.warning("customer.unlocked", staff=g.staff, rrn=rrn)
        return console_response(_("%(rrn)s 고객의 잠금을 풀었습니다.", rrn=mask_rrn(rrn)))
    return console_response(_("%(rrn)s 고객은 잠겨 있지 않습니다.", rrn=mask_rrn(rrn)))


@bp.post("/update/find")
@signed_in
def find_updates():
    """Mount each listed stick read-only and judge the update bundles at its root (kiosk/updates)."""
    updates = updates_or_404()
    if session_store().customer_count():
        return customers_first()
    bundles = updates.find()
    audit("update.bundles_looked_for", detail=f"bundles={len(bundles)}")
    return console_response(_("USB에서 업데이트 파일 %(count)d개를 찾았습니다.", count=len(bundles)),
                            bundles=bundles)


@bp.post("/update/install")
@signed_in
def install_update():
    """The bundle is judged again, copied from the stick and handed to RAUC, which writes it to the slot
    not running (kiosk/updates/offer.py): customers go on being served meanwhile, and the new version runs
    only after the staff's 다시 시작. How it goes is on the console's polled state."""
    updates = updates_or_404()
    if session_store().customer_count():
        return customers_first()
    try:
        bundle = updates.install(request.form.get("drive", "")[:200], request.form.get("bundle", "")[:255])
    except UpdateRefused as refused:
        logs.warning("update.install_refused", verdict=refused.verdict or "none", detail=str(refused))
        return console_response(_("이 업데이트는 설치할 수 없습니다. USB에서 다시 찾아 주세요."), status=409,
                                bundles=updates.find())
    audit("update.install_started", detail=f"version={bundle.version}")
    return console_response(_("%(version)s 설치를 시작했습니다. 복사가 끝날 때까지 USB를 빼지 마세요.",
                              version=bundle.version))


@bp.post("/update/restart")
@signed_in
def restart_for_update():
    updates = updates_or_404()
    progress = updates.finish()
    if progress.state is not InstallState.INSTALLED:
        return console_response(_("설치를 마친 업데이트가 없습니다."), status=409)
    audit("update.restart", detail=f"version={progress.version}")
    session_store().end_customer_sessions("staff_reset")
    try:
        updates.reboot()
    except UpdaterUnavailable as exc:
        logs.error("update.updater_unavailable", detail=str(exc))
        return console_response(_("다시 시작하지 못했습니다. 기술 지원에 연락해 주세요."), status=503)
    return console_response(_("다시 시작합니다. 새 버전이 화면을 띄우면 업데이트가 끝납니다."))


def customers_first():
    """Looking for updates mounts every stick, a customer's too, and unmounts it: never under a customer's
    write. The staff wait until the customer has finished (the console lists who is at the screen)."""
    logs.warning("update.refused_while_customers", staff=g.staff)
    return console_response(_("고객이 이용 중입니다. 고객의 이용이 끝난 뒤 다시 해 주세요."), status=409)


def updates_or_404() -> SystemUpdates:
    updates = current_kiosk().updates
    if updates is None:  # not the A/B appliance: apt updates this kiosk
        abort(404)
    return updates


def console_response(message: str, status: int = 200, **shown):
    return make_response(render_template("staff/console.html", message=message, **{**console_state(), **shown}),
                         status)


def locked_rows(rows: list[dict]) -> dict:
    """Locked customers (staff unlock them after checking ID), and how many certificates are locked
    after wrong certificate passwords (never unlocked here: the remedy is a reissue)."""
    certificates = [row for row in rows if row["customer_key"].startswith(CERTIFICATE_TRIES)]
    return {"locked": [row for row in rows if row not in certificates], "locked_certificates": len(certificates),
            "lock_limit": MAX_ACCOUNT_FAILURES}


def console_state() -> dict:
    svc = current_kiosk()
    clock = svc.clock.now()
    customers = [
        {"step": entry.session[VISIT].journey.current.value, "idle": int(clock - entry.touched)}
        for _sid, entry in session_store().customers()
    ]
    return {
        "staff": g.staff,
        "customers": customers[:CONSOLE_SESSIONS],  # a flood of sessions must not bloat the console
        "more_customers": max(len(customers) - CONSOLE_SESSIONS, 0),
        "out_of_service": svc.state.out_of_service,
        "staff_called": svc.state.staff_called,
        "events": svc.audit.recent(15),
        "counts": {action: svc.audit.count_today(action) for action in CONSOLE_COUNTS},
        **locked_rows(svc.lockouts.locked_keys()),
        "drives": svc.drives.drives(),
        "outbox": svc.code_sender.recent(5) if svc.settings.is_demo and hasattr(svc.code_sender, "recent") else [],
        "is_demo": svc.settings.is_demo,
        "build": {"version": version(), "slot": booted_slot()},
        "update": svc.updates.finish() if svc.updates else None,
        "bundles": None,
        "running_version": svc.updates.running_version if svc.updates else "",
    }

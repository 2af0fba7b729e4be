"""The identity step by camera (issue 25): the camera screen, the capture, the confirm screen, and the
way to the keyboard form. Registered on the customer blueprint; the screens are the server's, the page's
script (static/js/camera.js) only shows the camera, picks the moment and posts the picture.

A capture is the JPEG (or PNG) itself as the request body, never a multipart upload (Werkzeug would
spill a large file part to a temporary file). Its length is checked against MAX_CAPTURE_BYTES before a
byte is read, it is read into memory, handed to the card reader and dropped: nothing of it is written,
logged or counted beyond "a capture happened, and why it failed" (docs/security.md).
"""

from __future__ import annotations

from flask import request

from kiosk import logs
from kiosk.idcard import MAX_CAPTURE_BYTES, CardNotRead
from kiosk.identity.ports import MAX_ACCOUNT_FAILURES
from kiosk.journey import Step
from kiosk.journey.flow import Outcome
from kiosk.web.base import current_kiosk
from kiosk.web.forms import CardConfirmForm, IdentityForm
from kiosk.web.steps import go_to, in_step, render_first_showing, render_step
from kiosk.web.views.customer import bp, customer_flow

MAX_CAPTURES_PER_MINUTE = 10    # a flood of captures from one session is answered politely, unread
MAX_CAPTURE_FAILURES = 3        # then the keyboard form, with the reason
CAPTURE_TYPES = ("image/jpeg", "image/png")
KEYBOARD_REASONS = ("chosen", "no_camera", "refused", "camera_failed")


def identity_page(visit, status: int = 200, **context):
    """The identity step as this visit stands: the confirm screen while a read card waits for the
    customer, the keyboard form once chosen (or when the kiosk has no camera), else the camera."""
    if visit.reading is not None:
        return confirm_page(visit, status=status, **context)
    if visit.identity_by == "keyboard":
        if not context and status == 200:
            return render_first_showing(Step.IDENTITY, lambda: {"form": IdentityForm()})
        return render_step(Step.IDENTITY, status=status, **{"form": IdentityForm(formdata=None), **context})
    if not context and status == 200:
        return render_first_showing(Step.IDENTITY, camera_context, template="customer/identity_camera.html",
                                    key=("camera",))
    return render_step(Step.IDENTITY, status=status, template="customer/identity_camera.html",
                       **camera_context(), **context)


def camera_context() -> dict:
    return {"max_capture_bytes": MAX_CAPTURE_BYTES}


def confirm_page(visit, status: int = 200, form: CardConfirmForm | None = None, **context):
    reading = visit.reading
    if form is None:
        form = CardConfirmForm(formdata=None, data={
            "name": reading.name, "rrn_front": reading.rrn[:6], "id_kind": reading.kind,
            "issue_date": reading.issue_date.strftime("%Y%m%d") if reading.issue_date else "",
            "licence_number": reading.licence_number.replace("-", ""), "licence_serial": reading.licence_serial,
        })
    return render_step(Step.IDENTITY, status=status, template="customer/identity_confirm.html", form=form,
                       masked_back=f"{reading.rrn[6]}******" if len(reading.rrn) == 13 else "", **context)


def body_limit(limit: int):
    """This view takes a body up to `limit` bytes (the app's own limit is far smaller): kiosk/web/base.py
    lets the request through to it, bounded at `limit`, and the view refuses a larger one politely."""

    def decorator(view):
        view.max_body = limit
        return view

    return decorator


@bp.post("/journey/identity/capture")
@body_limit(MAX_CAPTURE_BYTES)
@in_step(Step.IDENTITY)
def post_capture(visit):
    length = request.content_length
    if length is None or length > MAX_CAPTURE_BYTES:
        logs.warning("identity.capture_refused", reason="too_large", length=length if length is not None else -1)
        return not_read(visit, "too_large", 413)
    if request.mimetype not in CAPTURE_TYPES:
        logs.warning("identity.capture_refused", reason="not_an_image", content_type=request.mimetype[:40])
        return not_read(visit, "not_an_image", 415)
    now = current_kiosk().clock.now()
    visit.captures = [t for t in visit.captures if t > now - 60]
    if len(visit.captures) >= MAX_CAPTURES_PER_MINUTE:
        logs.warning("identity.capture_refused", reason="too_many", captures=len(visit.captures))
        return identity_page(visit, status=429, card_problem="too_many")
    visit.captures.append(now)
    image = request.get_data(cache=False)
    try:
        reading = current_kiosk().card_reader.read(image)
    except CardNotRead as exc:
        return not_read(visit, exc.reason, 422)
    finally:
        del image
    if not (reading.name or reading.rrn):
        return not_read(visit, "unreadable", 422)
    visit.reading = reading
    logs.event("identity.card_read", id_kind=reading.kind, name_read=str(bool(reading.name)).lower(),
               rrn_read=str(len(reading.rrn) == 13).lower(), date_read=str(reading.issue_date is not None).lower())
    return confirm_page(visit)


def not_read(visit, reason: str, status: int):
    """The capture gave nothing: said politely, the keyboard offered; after a few, the keyboard form."""
    visit.capture_failures += 1
    logs.event("identity.card_not_read", reason=reason, failures=visit.capture_failures)
    if visit.capture_failures >= MAX_CAPTURE_FAILURES:
        visit.identity_by = "keyboard"
    return identity_page(visit, status=status, card_problem=reason)


@bp.post("/journey/identity/keyboard")
@in_step(Step.IDENTITY)
def post_keyboard(visit):
    """직접 입력, or the page found no camera / was refused one: the keyboard form."""
    reason = request.form.get("reason", "chosen")
    reason = reason if reason in KEYBOARD_REASONS else "chosen"
    visit.identity_by, visit.reading = "keyboard", None
    logs.event("identity.keyboard", reason=reason)
    return go_to(Step.IDENTITY)


@bp.post("/journey/identity/camera")
@in_step(Step.IDENTITY)
def post_camera(visit):
    """다시 찍기: back to the camera (what was read is dropped)."""
    visit.identity_by, visit.reading = "camera", None
    return go_to(Step.IDENTITY)


@bp.post("/journey/identity/confirm")
@in_step(Step.IDENTITY)
def post_confirm(visit):
    """맞습니다: what was read, as corrected, goes to the directory and the authenticity check."""
    if visit.reading is None:
        return go_to(Step.IDENTITY)
    form = CardConfirmForm(read_back=visit.reading.rrn[6:])
    if not form.validate_on_submit():
        return confirm_page(visit, status=422, form=form)
    driver = form.id_kind.data == "driver_license"
    number = form.licence_number.data
    answer = customer_flow().identify(
        visit, form.name.data, form.rrn.digits, form.id_kind.data, form.issued_on,
        licence_number=f"{number[:2]}-{number[2:4]}-{number[4:10]}-{number[10:]}" if driver else "",
        licence_serial=form.licence_serial.data if driver else "", by="camera")
    if answer.ok:
        return go_to(visit.journey.current)
    return confirm_page(visit, status=422, form=form, outcome=answer.outcome.value,
                        locked=answer.outcome is Outcome.LOCKED, lock_limit=MAX_ACCOUNT_FAILURES)

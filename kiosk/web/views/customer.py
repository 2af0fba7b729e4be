"""The customer's screens. Thin: parse the form, call the flow, render the step.

Which step the customer may see, at which URL, is kiosk/web/steps.py; each step's page here registers
itself there (`@page`). What an outcome says to the customer is templates/customer/_outcomes.html: a
handler passes the flow's code, never the words.
"""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    get_template_attribute,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from kiosk import logs
from kiosk.identity.ports import MAX_ACCOUNT_FAILURES
from kiosk.journey import Service, Step
from kiosk.journey.email_code import MAX_TRIES as MAX_CODE_TRIES
from kiosk.journey.email_code import ResendRefused
from kiosk.journey.flow import Outcome
from kiosk.journey.visit import STAGES
from kiosk.pki.password import unmet_rules
from kiosk.speech import RATE_STEPS, VOLUME_STEPS
from kiosk.web.base import (
    A11Y_MODES,
    LANGUAGES,
    current_kiosk,
    current_voice,
    safe_next,
    same_for_everyone,
)
from kiosk.web.forms import (
    PASSWORD_RULE_TEXT,
    AccountForm,
    AccountPickForm,
    CodeForm,
    ConsentForm,
    DeleteForm,
    DriveForm,
    IdentityForm,
    PasswordForm,
    ReplaceForm,
    RevokeForm,
    SourceForm,
)
from kiosk.web.sessions import VISIT, session_store
from kiosk.web.shared import hole
from kiosk.web.steps import (
    current_visit,
    go_to,
    in_step,
    navigate_to,
    page,
    render_first_showing,
    render_step,
    show,
    step_url,
)

bp = Blueprint("customer", __name__)


def customer_flow():
    return current_kiosk().flow


def said(macro: str, code: str, **numbers) -> str:
    """The words for an outcome's `code`, from templates/customer/_outcomes.html: the one place they live."""
    return get_template_attribute("customer/_outcomes.html", macro)(code, **numbers)


@bp.get("/")
def attract():
    visit = current_visit()
    if visit is not None and visit.journey.service is not None:
        return go_to(visit.journey.current)
    out_of_service = current_kiosk().state.out_of_service
    return same_for_everyone(("attract", out_of_service),
                             lambda: render_template("customer/attract.html", out_of_service=out_of_service))


@bp.post("/start")
def start():
    if current_kiosk().state.out_of_service:
        return redirect(url_for("customer.attract"), code=303)
    if current_visit() is None:
        session[VISIT] = customer_flow().start()
    return go_to(current_visit().journey.current)


@bp.post("/reset")
def reset():
    """처음으로: everything of this customer is wiped and the attract screen comes back (after a write
    already under way has finished: the customer keeps what reached their stick)."""
    session_store().end_visit(session, "customer_reset")
    return redirect(url_for("customer.attract"), code=303)


@bp.post("/language")
def language():
    lang = request.form.get("lang", "ko")
    session["lang"] = lang if lang in LANGUAGES else "ko"
    return redirect(safe_next(request.form.get("next", "")), code=303)


@bp.post("/accessibility")
def accessibility():
    """Switch one accessibility mode on or off and come back to the same place (like /language)."""
    mode = request.form.get("mode", "")
    modes = set(session.get("a11y") or ())
    if mode in A11Y_MODES:
        modes ^= {mode}
    session["a11y"] = [m for m in A11Y_MODES if m in modes]
    return redirect(safe_next(request.form.get("next", "")), code=303)


@bp.post("/accessibility/voice")
def voice():
    """The voice's speed or volume one step up or down (voice guidance's controls); a visit's end, which
    empties the session, brings the middle steps back."""
    rate, volume = current_voice()
    change = {"slower": (-1, 0), "faster": (1, 0), "quieter": (0, -1), "louder": (0, 1)}.get(
        request.form.get("change", ""), (0, 0))
    session["voice"] = [min(len(RATE_STEPS) - 1, max(0, rate + change[0])),
                        min(len(VOLUME_STEPS) - 1, max(0, volume + change[1]))]
    return redirect(safe_next(request.form.get("next", "")), code=303)


@bp.post("/call-staff")
def call_staff():
    current_kiosk().state.call_staff()
    return render_template("customer/_staff_called.html")


@bp.post("/session/extend")
def extend():
    if current_visit() is not None:
        session_store().extend(session.sid)
        logs.event("session.extended")
    return ("", 204)


@bp.get("/journey/<name>")
def step(name: str):
    try:
        wanted = Step(name)
    except ValueError:
        abort(404)
    visit = current_visit()
    if visit is None:
        return redirect(url_for("customer.attract"), code=303)
    return show(visit, wanted)


@bp.app_template_global()
def today() -> date:
    """For the done screen: a copy of a certificate already in its renewal window says "renew now",
    not a date gone by (issue 26, item 14)."""
    return date.today()


# --- GET pages ---------------------------------------------------------------------------------------

@page(Step.SERVICE)
def page_service(visit, status=200, message=None):
    renewal_days = customer_flow().issuance.renewal_window.days
    if message is None:
        return render_first_showing(Step.SERVICE, lambda: {"renewal_days": renewal_days})
    return render_step(Step.SERVICE, status=status, message=message, renewal_days=renewal_days)


@page(Step.CONSENT)
def page_consent(visit):
    return render_first_showing(Step.CONSENT, lambda: {"form": ConsentForm()})


@page(Step.IDENTITY)
def page_identity(visit):
    from kiosk.web.views.camera import identity_page  # the camera, the confirm screen or the keyboard form

    return identity_page(visit)


@page(Step.ACCOUNT)
def page_account(visit, status=200, **context):
    """The directory's list of the customer's accounts to tap (masked), or the account number typed
    where the directory gives none; the PIN either way."""
    accounts = customer_flow().withdrawal_accounts(visit)
    if accounts:
        return render_step(Step.ACCOUNT, status=status, form=AccountPickForm(formdata=None), accounts=accounts,
                           **context)
    if status == 200 and not context:
        return render_first_showing(Step.ACCOUNT, lambda: {"form": AccountForm()})
    return render_step(Step.ACCOUNT, status=status, **{"form": AccountForm(formdata=None), **context})


@page(Step.EMAIL)
def page_email(visit, form=None, message=None, status=200):
    """Showing the step never sends mail (a reload, the back button): the code was sent by the POST that
    entered the step (`post_account`), or by 다시 받기. No code out means that send failed."""
    if visit.challenge is None and message is None:
        message = said("code_outcome", "not_sent")
    shown = {"masked_email": mask_email(visit), "time_left": code_time_left(visit)}
    if form is None and message is None:
        return render_first_showing(Step.EMAIL, lambda: {"form": CodeForm(), **{name: hole(name) for name in shown}},
                                    values=shown, key=(bool(shown["time_left"]),))
    return render_step(Step.EMAIL, status=status, form=form or CodeForm(), message=message, **shown)


@page(Step.REPLACE)
def page_replace(visit):
    return render_step(Step.REPLACE, form=ReplaceForm(), records=customer_flow().replaceable(visit))


@page(Step.REVOKE)
def page_revoke(visit, status=200, confirm=None, message=None):
    return render_step(Step.REVOKE, status=status, form=RevokeForm(formdata=None), confirm=confirm,
                       records=customer_flow().revocable(visit), message=message)


@page(Step.PASSWORD)
def page_password(visit):
    return render_first_showing(Step.PASSWORD, lambda: {"form": PasswordForm(), "rules": rule_states("")})


@page(Step.DRIVE)
def page_drive(visit):
    run = visit.run
    compared = customer_flow().delivery.replace_question(visit)
    if compared is not None:  # 인증서 복사 asked before it replaces another certificate
        return render_step(Step.DRIVE, form=DriveForm(), replacing=run.replacing, compared=compared,
                           drive_id=visit.drive_id)
    error = run.error if run is not None else None
    if error is None:
        return render_first_showing(Step.DRIVE, lambda: {"form": DriveForm()})
    return render_step(Step.DRIVE, form=DriveForm(), error=error)


@page(Step.ISSUING)
def page_issuing(visit):
    return render_step(Step.ISSUING, run=visit.run, stages=STAGES)


@page(Step.DONE)
def page_done(visit):
    return render_step(Step.DONE, prepared=visit.prepared, run=visit.run)


@page(Step.CHECK)
def page_check(visit, error=None, status=200, confirm=None, deleted=False):
    stick = visit.stick.certificates if visit.stick else None
    deletable = [cert.folder for cert in stick or () if customer_flow().stick.deletable(visit, cert.folder)]
    return render_step(Step.CHECK, status=status, form=DriveForm(), error=error, stick=stick,
                       truncated=bool(visit.stick and visit.stick.truncated), deletable=deletable, confirm=confirm,
                       deleted=deleted, delete_form=DeleteForm(formdata=None))


@page(Step.SOURCE)
def page_source(visit, form=None, error=None, message=None, status=200):
    # the message goes next to the certificate list (source.html), not also at the top (_step.html)
    flow = customer_flow()
    stick = visit.stick.certificates if visit.stick else None
    reasons = {cert.folder: flow.stick.why_not_usable(visit, cert) for cert in stick or ()}
    return render_step(Step.SOURCE, status=status, form=form or SourceForm(formdata=None),
                       drive_form=DriveForm(), error=error, source_message=message, stick=stick,
                       usable=[folder for folder, reason in reasons.items() if reason is None],
                       unusable={folder: reason for folder, reason in reasons.items() if reason},
                       renewal_days=flow.issuance.renewal_window.days)


# --- POST handlers -----------------------------------------------------------------------------------

@bp.post("/journey/service")
@in_step(Step.SERVICE)
def post_service(visit):
    try:
        service = Service(request.form.get("service", ""))
    except ValueError:
        return page_service(visit, status=422, message=_("하실 업무를 선택해 주세요."))
    customer_flow().choose_service(visit, service)
    return go_to(visit.journey.current)


@bp.post("/journey/consent")
@in_step(Step.CONSENT)
def post_consent(visit):
    form = ConsentForm()
    if not form.validate_on_submit():
        return render_step(Step.CONSENT, status=422, form=form)
    customer_flow().consent(visit)
    return go_to(visit.journey.current)


@bp.post("/journey/identity")
@in_step(Step.IDENTITY)
def post_identity(visit):
    form = IdentityForm()
    if not form.validate_on_submit():
        return render_step(Step.IDENTITY, status=422, form=form)
    answer = customer_flow().identify(visit, form.name.data, form.rrn.digits, form.id_kind.data, form.issued_on)
    if answer.ok:
        return go_to(visit.journey.current)
    # the words: templates/customer/_outcomes.html
    return render_step(Step.IDENTITY, status=422, form=form, outcome=answer.outcome.value,
                       locked=answer.outcome is Outcome.LOCKED, lock_limit=MAX_ACCOUNT_FAILURES)


@bp.post("/journey/account")
@in_step(Step.ACCOUNT)
def post_account(visit):
    # an account tapped in the directory's list (its place), or typed (no list; or a client that types)
    accounts = customer_flow().withdrawal_accounts(visit)
    picked = bool(accounts) and "account" not in request.form
    form = AccountPickForm() if picked else AccountForm()
    if not form.validate_on_submit() or (picked and int(form.choice.data) >= len(accounts)):
        return render_step(Step.ACCOUNT, status=422, form=form, accounts=accounts if picked else [])
    account = accounts[int(form.choice.data)].account if picked else form.account.data
    answer = customer_flow().verify_account(visit, account, form.pin.data)
    outcome = answer.outcome
    if outcome is Outcome.OK:
        return enter_email_step(visit)
    message = said("account_outcome", outcome.value, left=answer.tries_left or 0, limit=MAX_ACCOUNT_FAILURES)
    return page_account(visit, status=422, message=message, locked=outcome is Outcome.LOCKED)


@bp.post("/journey/email")
@in_step(Step.EMAIL)
def post_email(visit):
    form = CodeForm()
    if not form.validate_on_submit():
        return page_email(visit, form=form, status=422)
    answer = customer_flow().check_code(visit, form.code.data)
    if answer.ok:
        return go_to(visit.journey.current)
    message = said("code_outcome", answer.outcome.value, left=answer.tries_left or 0, limit=MAX_CODE_TRIES)
    return page_email(visit, form=CodeForm(formdata=None), message=message, status=422)


@bp.post("/journey/email/resend")
@in_step(Step.EMAIL)
def post_email_resend(visit):
    """다시 받기: a new code; or the first, if its send failed (then the step shows as if just entered)."""
    first = visit.challenge is None
    try:
        outcome = customer_flow().resend_code(visit, _("[우체국] 인증서 발급 인증번호"), code_mail_body()).outcome
    except ResendRefused as refused:
        return page_email(visit, message=said("code_outcome", refused.reason, seconds=refused.wait_seconds),
                          status=422)
    if outcome is Outcome.ENDED:  # the visit ended while the mail was on its way
        return redirect(url_for("customer.attract"), code=303)
    if first:
        return page_email(visit)
    return page_email(visit, message=said("code_outcome", "resent" if outcome is Outcome.OK else "resend_failed"))


@bp.post("/journey/replace")
@in_step(Step.REPLACE)
def post_replace(visit):
    form = ReplaceForm()
    if not (form.validate_on_submit() and customer_flow().choose_replacement(visit, form.serial.data).ok):
        return render_step(Step.REPLACE, status=422, form=form, records=customer_flow().replaceable(visit),
                           message=_("바꿀 인증서를 선택해 주세요."))
    return go_to(visit.journey.current)


@bp.post("/journey/revoke")
@in_step(Step.REVOKE)
def post_revoke(visit):
    """인증서 폐지: the first tap on a certificate asks, 폐지하기 revokes it at the CA."""
    form, flow = RevokeForm(), customer_flow()
    records = {record.serial: record for record in flow.revocable(visit)}
    if not form.validate_on_submit() or form.serial.data not in records:
        return page_revoke(visit, status=422, message=_("폐지할 인증서를 선택해 주세요."))
    if form.confirm.data == "no":
        return page_revoke(visit)
    if form.confirm.data != "yes":
        return page_revoke(visit, confirm=records[form.serial.data])
    outcome = flow.revoke_lost(visit, form.serial.data).outcome
    if outcome is Outcome.CA_FAILED:
        return page_revoke(visit, status=503, message=_(
            "지금은 인증서를 폐지하지 못했습니다. 잠시 후 다시 누르시거나 직원을 불러 주세요."))
    if outcome is not Outcome.OK:
        return page_revoke(visit, status=422, message=_("폐지할 인증서를 선택해 주세요."))
    return go_to(visit.journey.current)


@bp.post("/journey/password/check")
@in_step(Step.PASSWORD)
def post_password_check(visit):
    """Live rules as the customer types: only the rule list comes back, the password stays unrendered
    (a list the same for everyone who breaks the same rules: rendered once for each)."""
    password = request.form.get("password", "")
    return same_for_everyone(("password_rules", *unmet_rules(password)),
                             lambda: render_template("customer/_password_rules.html", rules=rule_states(password)))


@bp.post("/journey/password")
@in_step(Step.PASSWORD)
def post_password(visit):
    form = PasswordForm()
    if not form.validate_on_submit():
        return render_step(Step.PASSWORD, status=422, form=PasswordForm(formdata=None),
                           rules=rule_states(form.password.data or ""), errors=form.errors)
    customer_flow().set_password(visit, form.password.data)
    customer_flow().delivery.start_writing_back(visit)  # a password change: back to the stick it came from
    return go_to(visit.journey.current)


@bp.post("/journey/drive")
@in_step(Step.DRIVE)
def post_drive(visit):
    form, delivery = DriveForm(), customer_flow().delivery
    if form.validate_on_submit() and form.replace.data == "no":
        delivery.decline_replace(visit)
        return go_to(Step.DRIVE)
    if not form.validate_on_submit():
        refusal = delivery.drive_refusal(visit, form.drive_id.data or "")
        return render_step(Step.DRIVE, status=422, form=form, error=refusal or "pick_drive")
    answer = delivery.choose_drive(visit, form.drive_id.data, form.replace.data == "yes")
    if not answer.ok:
        return render_step(Step.DRIVE, status=422, form=form, error=answer.reason)
    delivery.start_issuing(visit)
    return go_to(Step.ISSUING)


@bp.post("/journey/check")
@in_step(Step.CHECK)
def post_check(visit):
    """내 인증서 확인: read the stick the customer picked; nothing is written to it."""
    return read_picked_stick(visit, customer_flow().stick.check, page_check)


@bp.post("/journey/check/delete")
@in_step(Step.CHECK)
def post_check_delete(visit):
    """Delete an expired or revoked certificate from the stick: the first tap asks, the second deletes."""
    form, stick = DeleteForm(), customer_flow().stick
    if not (form.validate_on_submit() and stick.deletable(visit, form.folder.data)):
        return page_check(visit, status=422)
    if form.confirm.data == "no":
        return page_check(visit)
    if form.confirm.data != "yes":
        return page_check(visit, confirm=visit.stick.find(form.folder.data).folder)
    answer = stick.delete(visit, form.folder.data)
    if answer.outcome is Outcome.DRIVE_FAILED:
        return page_check(visit, error=answer.reason, status=422)
    return page_check(visit, deleted=answer.ok)


@bp.post("/journey/source")
@in_step(Step.SOURCE)
def post_source(visit):
    """The stick with the certificate to renew, re-protect or copy: read it, keys included (in memory)."""
    return read_picked_stick(visit, customer_flow().stick.read_source, page_source)


@bp.post("/journey/source/again")
@in_step(Step.SOURCE)
def post_source_again(visit):
    customer_flow().stick.forget(visit)
    return go_to(Step.SOURCE)


@bp.post("/journey/source/certificate")
@in_step(Step.SOURCE)
def post_source_certificate(visit):
    """The certificate chosen and its current password typed: the key is opened in memory."""
    form = SourceForm()
    if visit.stick is None:
        return go_to(Step.SOURCE)
    kept = SourceForm(formdata=None, folder=form.folder.data)  # the choice stays, the password never
    if not form.validate_on_submit():
        errors = form.folder.errors or form.password.errors
        return page_source(visit, form=kept, message=errors[0], status=422)
    answer = customer_flow().stick.choose_source(visit, form.folder.data, form.password.data)
    if answer.ok:
        customer_flow().delivery.start_writing_back(visit)  # a renewal: back to the stick it came from
        return go_to(visit.journey.current)
    # one answer for a wrong password and a key that is not this certificate's (issue 26, item 2)
    message = said("source_outcome", answer.outcome.value, left=answer.tries_left or 0, limit=MAX_ACCOUNT_FAILURES)
    return page_source(visit, form=kept, message=message, status=422)


@bp.get("/journey/issuing/status")
def issuing_status():
    visit = current_visit()
    if visit is None or visit.run is None:
        return navigate_to(url_for("customer.attract"))
    if visit.run.finished:
        return navigate_to(step_url(Step.DONE if visit.delivered_serial else Step.DRIVE))
    return render_template("customer/_issuing_stages.html", run=visit.run, stages=STAGES, visit=visit)


def enter_email_step(visit):
    """The account proved, the e-mail step is entered and its code sent, here on the POST (a GET never
    sends mail). A send that failed is said on the step (`page_email`); 다시 받기 tries again."""
    if visit.journey.current is Step.EMAIL and visit.challenge is None:
        outcome = customer_flow().send_code(visit, _("[우체국] 인증서 발급 인증번호"), code_mail_body()).outcome
        if outcome is Outcome.ENDED:  # the visit ended while the mail was on its way
            return redirect(url_for("customer.attract"), code=303)
    return go_to(visit.journey.current)


# --- helpers -----------------------------------------------------------------------------------------

def read_picked_stick(visit, read, page):
    """A step that reads the stick the customer picked: `read(visit, drive_id)`, then `page` again, with
    the drive's message when the stick could not be read."""
    form = DriveForm()
    if not form.validate_on_submit():
        return page(visit, error="pick_drive", status=422)
    answer = read(visit, form.drive_id.data)
    if not answer.ok:
        return page(visit, error=answer.reason, status=422)
    return page(visit)


def rule_states(password: str) -> list[tuple[str, str, bool]]:
    unmet = set(unmet_rules(password))
    return [(code, str(text), code not in unmet) for code, text in PASSWORD_RULE_TEXT.items()]


def code_time_left(visit) -> str:
    challenge = visit.challenge
    if challenge is None:
        return ""
    seconds = challenge.seconds_left()
    return _("남은 시간 %(minutes)d분 %(seconds)02d초 · 다시 받기 %(left)d회 남음",
             minutes=seconds // 60, seconds=seconds % 60, left=challenge.resends_left)


def mask_email(visit) -> str:
    from kiosk.pii import mask_email as mask

    return mask(visit.customer.email) if visit.customer else ""


def code_mail_body() -> str:
    return _("우체국 인증서 발급 인증번호는 {code} 입니다. 3분 안에 키오스크 화면에 입력해 주세요. "
             "직접 요청하지 않으셨다면 이 메일을 무시하시고 우체국에 알려 주세요.")


from kiosk.web.views import camera  # noqa: E402,F401 - its routes are the identity step's, on this blueprint

"""The receipt the customer keeps, asked for on the done screen: by e-mail (the mail port of the e-mail
code) or on paper (the optional printer). The content lives in kiosk/journey/receipt.py, the
once-per-channel rule in kiosk/journey/receipt_desk.py; this view only checks that the visit has a delivered (or, 폐지, a revoked) certificate,
translates the words and renders the done step again with the outcome (htmx swaps just the #receipt part)."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_babel import gettext as _

from kiosk.journey import Step
from kiosk.journey.receipt import ReceiptText
from kiosk.journey.receipt_desk import Channel
from kiosk.web.base import current_kiosk
from kiosk.web.steps import current_visit, render_step, step_url

bp = Blueprint("receipt", __name__)


@bp.app_context_processor
def receipt_context():
    desk = current_kiosk().receipts
    return {"receipts": desk, "renewal_days": desk.renewal_window.days}


@bp.post("/journey/done/receipt/<channel>")
def send(channel: str):
    visit = current_visit()
    if visit is None:
        return redirect(url_for("customer.attract"), code=303)
    prepared = visit.prepared
    revoked = visit.revoked is not None and visit.journey.current is Step.DONE
    delivered = visit.delivered_serial and prepared is not None and prepared.serial == visit.delivered_serial
    if not (delivered or revoked):
        return redirect(step_url(visit.journey.current), code=303)
    desk = current_kiosk().receipts
    if channel == Channel.EMAIL.value and visit.customer is not None:   # a copy or a password change
        text = revocation_text() if revoked else receipt_text()         # identifies no one: paper only
        delivery = desk.email(visit, text)
    elif channel == Channel.PAPER.value:
        delivery = desk.print(visit)
    else:
        return redirect(step_url(Step.DONE), code=303)
    # a printer or mail server that failed is said politely on the same screen: the journey is done
    return render_step(Step.DONE, prepared=prepared, run=visit.run,
                       receipt_result=(channel, delivery.value))


def revocation_text() -> ReceiptText:
    """The words of a 폐지's e-mail: `validity` labels the day, `renew` the CRL (kiosk.journey.receipt.email_body)."""
    return ReceiptText(
        subject=_("[우체국] 공동인증서 폐지 확인"),
        title=_("우체국 키오스크에서 공동인증서를 폐지하셨습니다."),
        name=_("이름"), issuer=_("발급기관"), serial=_("일련번호"), validity=_("폐지일"),
        renew=_("인증서 폐지 목록(CRL) 번호"),
        use=_("이 인증서는 이제 어디에서도 쓸 수 없습니다. 새 인증서가 필요하시면 우체국 키오스크나 창구에서 "
              "'신규 발급'을 받으세요."),
        lost=_("직접 폐지하지 않으셨다면 바로 우체국(1588-1900)에 알려 주세요."),
        help=_("도움말"),
    )


def receipt_text() -> ReceiptText:
    """The e-mail's words in the customer's language. What it must never hold (resident number,
    password, e-mail code) it is never given: kiosk.journey.receipt.Receipt has only the certificate's
    public fields."""
    return ReceiptText(
        subject=_("[우체국] 공동인증서 발급 영수증"),
        title=_("우체국 키오스크에서 공동인증서를 USB에 발급받으셨습니다."),
        name=_("이름"), issuer=_("발급기관"), serial=_("일련번호"), validity=_("유효기간"),
        renew=_("갱신 가능 기간"),
        use=_("집에서 쓰는 법: USB를 컴퓨터에 꽂고 우체국 인터넷뱅킹에 들어가, 인증서 로그인에서 "
              "'이동식디스크'를 고른 뒤 이 인증서를 선택하고 인증서 비밀번호를 입력하세요."),
        lost=_("USB를 잃어버리셨다면: 다른 사람이 쓰지 못하도록 바로 우체국(1588-1900)에 알리시거나 "
               "우체국 창구에서 이 인증서를 폐기하고 새로 발급받으세요."),
        help=_("도움말"),
    )

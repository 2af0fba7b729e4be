"""The receipt the customer keeps (issue 19), through the real WSGI server after a real issuance: the
e-mail received by aiosmtpd on loopback, the slip written by python-escpos's File backend to a file
standing for /dev/usb/lp0, and a printer configured to a device that is not there. Each is scanned for
what must never leave the kiosk: the resident number, the password, the e-mail code."""

from __future__ import annotations

import re
import threading

import pytest

from tests.http_customer import Customer, insert_drive, issue_to, smtp_code
from tests.http_customer import walk_to_drive as shared_walk
from tests.walker import GOOD_PASSWORD, HONG

RRN_FORMS = (HONG.rrn, HONG.rrn.replace("-", ""), HONG.rrn.split("-")[1])


@pytest.fixture
def printer_file(tmp_path):
    path = tmp_path / "lp0"
    path.write_bytes(b"")
    return path


@pytest.fixture
def app_config(app_config, smtp_server, printer_file, request):
    printer = getattr(request, "param", f"file:{printer_file}")
    return {**app_config, "smtp_url": smtp_server.url, "printer": printer}


def issued(app, live_server, smtp_server) -> tuple[Customer, str]:
    """Hong's certificate on a demo stick; returns the customer on the done page and the e-mailed code."""
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    shared_walk(customer, smtp_code(smtp_server, 1))
    code = re.search(r"\b(\d{6})\b", smtp_server.messages[0].get_content()).group(1)
    issue_to(customer, drive.id)
    assert customer.url.endswith("/journey/done"), customer.url
    return customer, code


def assert_no_secrets(text: str, code: str) -> None:
    for rrn in RRN_FORMS:
        assert rrn not in text
    assert GOOD_PASSWORD not in text
    assert code not in text


def a_prepared_certificate():
    """A certificate's public fields as the done screen holds them, without issuing one."""
    from datetime import datetime, timezone

    from kiosk.pki.issuance import PreparedCertificate

    now = datetime.now(timezone.utc)
    return PreparedCertificate("abc123", None, "", "홍길동()001", "CA", now, now, None)


def serial_of(app) -> str:
    from kiosk.pii import customer_key

    services = app.extensions["kiosk"]
    return services.issuance.certificates_for(customer_key(services.settings.customer_hash_key, HONG.rrn))[0].serial


def test_the_email_receipt_arrives_once_and_holds_no_secret(app, live_server, smtp_server):
    customer, code = issued(app, live_server, smtp_server)
    assert 'id="receipt-email"' in customer.page and 'id="receipt-paper"' in customer.page
    customer.post("/journey/done/receipt/email")
    customer.post("/journey/done/receipt/email")             # a double tap: the same page, no second mail
    mail = smtp_server.wait_for(2)
    assert mail["To"] == HONG.email and "영수증" in mail["Subject"]
    body = mail.get_content()
    serial = serial_of(app)
    assert serial in body and "HONG GILDONG" in body and "https://www.epostbank.go.kr/" in body
    assert re.search(r"유효기간: \d{4}-\d\d-\d\d ~ \d{4}-\d\d-\d\d", body)
    assert re.search(r"갱신 가능 기간: \d{4}-\d\d-\d\d ~", body) and "이동식디스크" in body
    assert "잃어버리" in body                                  # what to do if the stick is lost
    assert_no_secrets(body, code)
    assert "✔ 메일을 보냈습니다" in customer.page and "h***@example.com" in customer.page
    with smtp_server.received:
        smtp_server.received.wait_for(lambda: len(smtp_server.messages) > 2, timeout=1)
    assert len(smtp_server.messages) == 2


def test_the_paper_receipt_is_escpos_with_the_fields_and_a_qr_code(app, live_server, smtp_server, printer_file):
    customer, code = issued(app, live_server, smtp_server)
    customer.post("/journey/done/receipt/paper")
    customer.post("/journey/done/receipt/paper")
    data = printer_file.read_bytes()
    assert data.count(b"KOREA POST - BANKING CERTIFICATE") == 1          # printed once
    text = data.decode("ascii", errors="replace")
    assert f"Serial: {serial_of(app)}" in text and "Certificate: HONG GILDONG " in text
    assert re.search(r"Valid: \d{4}-\d\d-\d\d - \d{4}-\d\d-\d\d", text) and "Renew from: " in text
    # the printer's own QR code (GS ( k): store the URL (fn 80), then print it (fn 81)
    url = b"https://www.epostbank.go.kr/"
    assert b"\x1d(k" + bytes([len(url) + 3, 0]) + b"1P0" + url in data and b"\x1d(k\x03\x001Q0" in data
    assert b"\x1dV" in data                                                # the cut
    assert_no_secrets(text, code)
    assert "영수증이 나왔습니다" in customer.page


@pytest.mark.parametrize("app_config", ["file:/nonexistent/usb/lp9"], indirect=True)
def test_a_missing_printer_never_blocks_the_journey(app, live_server, smtp_server, caplog):
    customer, _code = issued(app, live_server, smtp_server)
    assert "USB를 빼셔도 됩니다" in customer.page
    customer.post("/journey/done/receipt/paper")
    assert customer.status == 200 and "인증서 발급이 끝났습니다" in customer.page
    assert "영수증을 출력하지 못했습니다" in customer.page
    assert any("receipt.print_failed" in r.getMessage() for r in caplog.records)
    customer.post("/journey/done/receipt/email")              # the e-mail still works
    assert smtp_server.wait_for(2)["To"] == HONG.email
    customer.post("/reset")
    assert customer.url.endswith("/")


@pytest.mark.parametrize("app_config", ["none"], indirect=True)
def test_without_a_printer_there_is_no_print_button(app, live_server, smtp_server):
    customer, _code = issued(app, live_server, smtp_server)
    assert 'id="receipt-email"' in customer.page and 'id="receipt-paper"' not in customer.page
    customer.post("/journey/done/receipt/paper")
    assert smtp_server.wait_for(1) and "영수증이 나왔습니다" not in customer.page


def test_receipts_only_after_a_delivered_certificate(app, live_server, smtp_server):
    customer = Customer(live_server.url)
    customer.get("/")
    customer.post("/start")
    customer.post("/journey/done/receipt/email")
    assert customer.url.endswith("/journey/service")
    assert len(smtp_server.messages) == 0


def test_simultaneous_taps_send_one_email(app, smtp_server):
    """Two requests racing (two fingers, a retried request): the desk claims the channel on the visit
    before sending; a later visit delivering the same serial (a copy) gets its own receipt."""
    from kiosk.identity import Customer as Person
    from kiosk.journey.visit import Visit
    from kiosk.web.views.receipt import receipt_text

    desk = app.extensions["kiosk"].receipts
    prepared = a_prepared_certificate()
    visit = Visit(customer=Person("key", HONG.name, "", HONG.email), prepared=prepared, delivered_serial="abc123")
    with app.test_request_context():
        text = receipt_text()
    results = []
    threads = [threading.Thread(target=lambda: results.append(desk.email(visit, text))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.value for r in results) == ["already", "already", "already", "sent"]
    assert smtp_server.wait_for(1) and len(smtp_server.messages) == 1
    later = Visit(customer=visit.customer, prepared=prepared, delivered_serial="abc123")
    assert desk.email(later, text).value == "sent" and smtp_server.wait_for(2)


@pytest.mark.parametrize("app_config", ["none"], indirect=True)
def test_a_copy_identifies_no_one_so_offers_no_email(app):
    """A copy or a password change (issue 15) has no customer from the directory: no address to mail."""
    from flask import render_template

    from kiosk.journey import Service, Step
    from kiosk.journey.visit import Visit

    prepared = a_prepared_certificate()
    visit = Visit(prepared=prepared, delivered_serial="abc123")
    visit.journey.choose(Service.COPY)
    with app.test_request_context():
        page = render_template("customer/done.html", visit=visit, step=Step.DONE, progress=(4, 4),
                               prepared=prepared, run=None)
    assert 'id="receipt-email"' not in page and 'id="receipt"' not in page
    assert 'id="renewal"' in page and "이동식디스크" in page


def test_a_revocation_comes_with_its_own_receipt_naming_the_crl(app, live_server, smtp_server, printer_file):
    """인증서 폐지 (issue 30): the customer keeps proof of it — the revoked certificate and the CRL that lists
    it — e-mailed once and printed once, with nothing secret in either."""
    from tests.journey.test_manage import start
    from tests.walker import identity_form

    _, first_code = issued(app, live_server, smtp_server)
    serial = serial_of(app)
    customer = Customer(live_server.url)
    start(customer, "revoke")
    customer.post("/journey/consent", {"terms": "y", "privacy": "y"})
    customer.post("/journey/identity", identity_form(HONG))
    customer.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})
    code = smtp_code(smtp_server, 2)()
    customer.post("/journey/email", {"code": code})
    customer.post("/journey/revoke", {"serial": serial})
    customer.post("/journey/revoke", {"serial": serial, "confirm": "yes"})
    assert customer.url.endswith("/journey/done") and 'id="receipt-email"' in customer.page
    crl_number = re.search(r"CRL 번호 (\d+)", customer.page).group(1)

    customer.post("/journey/done/receipt/email")
    customer.post("/journey/done/receipt/email")                       # a double tap: one mail
    mail = smtp_server.wait_for(3)
    assert mail["To"] == HONG.email and "폐지" in mail["Subject"]
    body = mail.get_content()
    assert serial in body and f"인증서 폐지 목록(CRL) 번호: #{crl_number}" in body
    assert re.search(r"폐지일: \d{4}-\d\d-\d\d", body) and "1588-1900" in body
    assert "유효기간" not in body and "갱신" not in body               # not an issuance's receipt
    customer.post("/journey/done/receipt/paper")
    text = printer_file.read_bytes().decode("ascii", errors="replace")
    assert text.count("KOREA POST - CERTIFICATE REVOKED") == 1
    assert f"Serial: {serial}" in text and f"(CRL no. {crl_number})" in text
    for secret_bearer in (body, text):
        assert_no_secrets(secret_bearer, code)
        assert first_code not in secret_bearer
    with smtp_server.received:
        smtp_server.received.wait_for(lambda: len(smtp_server.messages) > 3, timeout=1)
    assert len(smtp_server.messages) == 3

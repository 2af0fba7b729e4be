"""인증서 폐지 over real HTTP: a customer who lost the stick proves who they are (identity, account + PIN,
e-mail code), picks the certificate from the kiosk's registry (no stick), confirms, and the embedded CA
revokes it over CMP (rr); the CA's CRL, read as the bank reads it, lists it within the same visit."""

from __future__ import annotations

import re

from cryptography import x509

from tests.conftest import free_port
from tests.http_customer import Customer, insert_drive
from tests.journey.test_manage import certificate_folders, files_of, issue_certificate, start, stick_root
from tests.walker import HONG, identity_form, last_code


def prove_identity(app, customer: Customer) -> None:
    customer.post("/journey/consent", {"terms": "y", "privacy": "y"})
    customer.post("/journey/identity", identity_form(HONG))
    customer.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})
    customer.post("/journey/email", {"code": last_code(app)})
    assert customer.url.endswith("/journey/revoke"), customer.url


def listed_serials(page: str) -> list[str]:
    return re.findall(r'name="serial" value="([0-9A-F]{40})"', page)


def on_crl(app, serial: str) -> bool:
    crl = x509.load_der_x509_crl(app.extensions["kiosk"].issuance.crl_der())
    return crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None


def test_a_lost_certificate_is_revoked_and_on_the_crl_in_the_same_visit(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive)
    [folder] = certificate_folders(stick_root(app))
    serial = f"{x509.load_der_x509_certificate((folder / 'signCert.der').read_bytes()).serial_number:040X}"
    stick_before = files_of(stick_root(app))

    start(customer, "revoke")
    prove_identity(app, customer)
    assert listed_serials(customer.page) == [serial]
    customer.post("/journey/revoke", {"serial": serial})
    assert 'id="revoke-question"' in customer.page and "되돌릴 수 없습니다" in customer.page
    customer.post("/journey/revoke", {"serial": serial, "confirm": "no"})  # thought better of it
    assert listed_serials(customer.page) == [serial] and not on_crl(app, serial)
    customer.post("/journey/revoke", {"serial": serial})
    customer.post("/journey/revoke", {"serial": serial, "confirm": "yes"})

    assert customer.url.endswith("/journey/done"), customer.url
    assert "인증서를 폐지했습니다" in customer.page and serial in customer.page
    line = re.search(r'id="revoked-line">([^<]+)<', customer.page).group(1)
    assert "인증서 폐지 목록(CRL 번호" in line, line
    assert on_crl(app, serial)
    record = app.extensions["kiosk"].issuance.find(serial)
    assert (record.status, record.revocation_reason) == ("revoked", "keyCompromise")
    assert files_of(stick_root(app)) == stick_before  # no stick needed, none touched

    customer.post("/reset")
    start(customer, "revoke")
    prove_identity(app, customer)
    assert listed_serials(customer.page) == [] and 'id="revoke-none"' in customer.page


def test_a_serial_not_on_the_customers_list_is_refused(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive)
    [serial] = listed_serials_after_identity(app, customer)
    customer.post("/journey/revoke", {"serial": "0" * 39 + "1", "confirm": "yes"})
    assert customer.status == 422 and "폐지할 인증서를 선택해 주세요" in customer.page
    assert not on_crl(app, serial)


def test_a_ca_that_does_not_answer_is_said_politely_and_nothing_is_marked(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive)
    [serial] = listed_serials_after_identity(app, customer)
    local_ca = app.extensions["kiosk"].issuance.ca.measured  # behind kiosk.metrics.MeasuredCA
    url = local_ca.transport.url
    local_ca.transport.url = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    try:
        customer.post("/journey/revoke", {"serial": serial, "confirm": "yes"})
    finally:
        local_ca.transport.url = url
    assert customer.status == 503 and "지금은 인증서를 폐지하지 못했습니다" in customer.page
    assert app.extensions["kiosk"].issuance.find(serial).status == "delivered"
    customer.post("/journey/revoke", {"serial": serial, "confirm": "yes"})  # the CA is back
    assert customer.url.endswith("/journey/done") and on_crl(app, serial)


def listed_serials_after_identity(app, customer: Customer) -> list[str]:
    start(customer, "revoke")
    prove_identity(app, customer)
    return listed_serials(customer.page)

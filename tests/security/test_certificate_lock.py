"""Lockouts and a certificate's identity as an outside probe met them (issue 26, items 1–3), over real
HTTP on sticks the kiosk itself wrote: the 5th *wrong* try locks and the right value on the 5th try gets
through; a lock is audited; the certificate lock cannot be dodged by a changed certificate byte or a
made-up certificate beside someone's key file; a certificate is ours only when our CA signed it."""

from __future__ import annotations

import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

from kiosk.pki.keyfile import encrypt_private_key
from tests.http_customer import Customer, insert_drive, walk_to_identity
from tests.journey.test_manage import (
    certificate_folders,
    issue_certificate,
    pick_certificate,
    prove_identity,
    start,
    stick_root,
)
from tests.walker import GOOD_PASSWORD, HONG, identity_form

WRONG = "Wrong!pass99"
CERTIFICATE_LOCKED = "5번 틀려"


def events(caplog) -> list[str]:
    return [record.getMessage().split()[0] for record in caplog.records]


def audit_actions(app) -> list[str]:
    return [row["action"] for row in app.extensions["kiosk"].store.query_all("SELECT action FROM audit_log")]


def at_the_source_step(app, live_server, service="change_password") -> tuple[Customer, object]:
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive)
    start(customer, service)
    customer.post("/journey/source", {"drive_id": drive.id})
    return customer, drive


def read_the_stick_again(customer: Customer, drive) -> None:
    customer.post("/journey/source/again")
    customer.post("/journey/source", {"drive_id": drive.id})


def test_four_wrong_pins_then_the_right_one_gets_through(app, live_server):
    customer = Customer(live_server.url)
    walk_to_identity(customer)
    customer.post("/journey/identity", identity_form(HONG))
    for left in (4, 3, 2, 1):
        customer.post("/journey/account", {"account": HONG.account, "pin": "0000"})
        assert f"남은 횟수: {left}회" in customer.page
    customer.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})
    assert customer.url.endswith("/journey/email"), customer.url
    assert app.extensions["kiosk"].lockouts.locked_keys() == []


def test_five_wrong_pins_lock_and_the_right_one_after_them_does_not_lift_the_lock(app, live_server):
    customer = Customer(live_server.url)
    walk_to_identity(customer)
    customer.post("/journey/identity", identity_form(HONG))
    for _ in range(5):
        customer.post("/journey/account", {"account": HONG.account, "pin": "0000"})
    assert "잠겼습니다" in customer.page
    customer.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})
    assert customer.url.endswith("/journey/account") and "잠겼습니다" in customer.page
    assert "customer.locked" in audit_actions(app)


def test_four_wrong_certificate_passwords_then_the_right_one_opens_it(app, live_server):
    customer, _drive = at_the_source_step(app, live_server)
    for left in (4, 3, 2, 1):
        pick_certificate(customer, WRONG)
        assert f"남은 횟수: {left}회" in customer.page
    pick_certificate(customer, GOOD_PASSWORD)
    assert customer.url.endswith("/journey/password"), customer.url
    assert app.extensions["kiosk"].lockouts.locked_keys() == []


def test_the_fifth_wrong_certificate_password_locks_with_an_audit_row_and_an_event(app, live_server, caplog):
    customer, _drive = at_the_source_step(app, live_server)
    for _ in range(5):
        pick_certificate(customer, WRONG)
    assert CERTIFICATE_LOCKED in customer.page
    assert "source.password_locked" in events(caplog)
    assert audit_actions(app).count("certificate.password_locked") == 1
    again = Customer(live_server.url)  # a new session with the right password is refused too
    start(again, "change_password")
    again.post("/journey/source", {"drive_id": _drive.id})
    pick_certificate(again, GOOD_PASSWORD)
    assert CERTIFICATE_LOCKED in again.page


def test_a_changed_signature_byte_gives_no_fresh_tries(app, live_server):
    customer, drive = at_the_source_step(app, live_server)
    for _ in range(4):
        pick_certificate(customer, WRONG)
    [folder] = certificate_folders(stick_root(app))
    der = bytearray((folder / "signCert.der").read_bytes())
    der[-1] ^= 0x01  # the last byte of the signature
    (folder / "signCert.der").write_bytes(bytes(der))
    read_the_stick_again(customer, drive)

    pick_certificate(customer, WRONG)
    assert CERTIFICATE_LOCKED in customer.page, "the same key, the same count"


def made_up_certificate(genuine: x509.Certificate) -> bytes:
    """A certificate with the genuine one's names and serial, and a key nobody but its maker holds."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (x509.CertificateBuilder().subject_name(genuine.subject).issuer_name(genuine.issuer)
            .public_key(key.public_key()).serial_number(genuine.serial_number)
            .not_valid_before(genuine.not_valid_before_utc).not_valid_after(genuine.not_valid_after_utc)
            .sign(key, hashes.SHA256()).public_bytes(Encoding.DER))


def test_a_key_file_beside_a_made_up_certificate_gets_one_answer_for_right_and_wrong(app, live_server):
    customer, drive = at_the_source_step(app, live_server)
    [folder] = certificate_folders(stick_root(app))
    genuine = x509.load_der_x509_certificate((folder / "signCert.der").read_bytes())
    (folder / "signCert.der").write_bytes(made_up_certificate(genuine))
    read_the_stick_again(customer, drive)

    answers = []
    for password in (WRONG, GOOD_PASSWORD, WRONG, GOOD_PASSWORD, GOOD_PASSWORD):
        pick_certificate(customer, password)
        message = re.search(r'id="source-message"[^>]*>(.*?)<', customer.page, re.S)
        answers.append((customer.status, re.sub(r"\d+회", "N회", message.group(1).strip() if message else "")))
    assert customer.status == 422 and CERTIFICATE_LOCKED in customer.page
    assert len(set(answers[:4])) == 1, answers  # the right password is told what a wrong one is told
    assert "손상" not in "".join(text for _status, text in answers)


def forged_with_our_serial(genuine: x509.Certificate, folder) -> str:
    """The genuine certificate's names, serial, validity and extensions, signed by another CA, with a key
    file the forger made for it; returns the forger's password."""
    other_ca = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = (x509.CertificateBuilder().subject_name(genuine.subject).issuer_name(genuine.issuer)
               .public_key(key.public_key()).serial_number(genuine.serial_number)
               .not_valid_before(genuine.not_valid_before_utc).not_valid_after(genuine.not_valid_after_utc))
    for extension in genuine.extensions:
        if not isinstance(extension.value, x509.AuthorityKeyIdentifier | x509.SubjectKeyIdentifier):
            builder = builder.add_extension(extension.value, extension.critical)
    (folder / "signCert.der").write_bytes(builder.sign(other_ca, hashes.SHA256()).public_bytes(Encoding.DER))
    (folder / "signPri.key").write_bytes(encrypt_private_key(key, b"\x01" * 20, "Forged!pass1"))
    return "Forged!pass1"


def test_another_cas_certificate_with_our_serial_is_neither_valid_nor_renewable(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive, days_ago=345)  # in its renewal window
    [folder] = certificate_folders(stick_root(app))
    genuine = x509.load_der_x509_certificate((folder / "signCert.der").read_bytes())
    password = forged_with_our_serial(genuine, folder)

    start(customer, "check")
    customer.post("/journey/check", {"drive_id": drive.id})
    assert "사용할 수 있는 인증서입니다" not in customer.page and "곧 만료됩니다" not in customer.page
    assert "다른 기관에서 발급한 인증서입니다." in customer.page
    customer.post("/reset")

    start(customer, "renew")
    prove_identity(app, customer)
    customer.post("/journey/source", {"drive_id": drive.id})
    customer.post("/journey/source/certificate", {"folder": folder.relative_to(stick_root(app)).as_posix(),
                                                  "password": password})
    assert customer.status == 422 and customer.url.endswith("/journey/source/certificate")
    serial = f"{genuine.serial_number:040X}"
    assert app.extensions["kiosk"].issuance.find(serial).status == "delivered"  # the genuine one stays
    assert (folder / "signCert.der").exists()

"""내 인증서 확인 over real HTTP: the customer plugs a stick in and sees every certificate on it with its
status, read from the stick the way the kiosk really wrote it; nothing is written to the stick."""

from __future__ import annotations

import datetime
import hashlib
import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from tests.http_customer import Customer, insert_drive, issue_to, walk_to_drive
from tests.walker import last_code


def stick_root(app, name="stick") -> Path:
    return app.extensions["kiosk"].settings.data_dir / "demo-drives" / name / "root"


def fingerprint(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def check(customer: Customer, drive_id: str) -> str:
    customer.get("/")
    customer.post("/start")
    customer.post("/journey/service", {"service": "check"})
    assert customer.url.endswith("/journey/check"), customer.url
    return customer.post("/journey/check", {"drive_id": drive_id})


def foreign_certificate(not_after: datetime.datetime) -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OtherCA"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "김타인()0011")])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_after - datetime.timedelta(days=365)).not_valid_after(not_after)
            .sign(key, hashes.SHA256()).public_bytes(Encoding.DER))


def test_a_certificate_the_kiosk_issued_is_shown_valid_and_nothing_is_written(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    walk_to_drive(customer, lambda: last_code(app))
    issue_to(customer, drive.id)
    assert "USB를 빼셔도 됩니다" in customer.page
    customer.post("/reset")

    insert_drive(app)  # the customer plugs the same stick in again
    before = fingerprint(stick_root(app))
    page = check(customer, drive.id)

    assert customer.status == 200
    assert 'class="certificate-card status-valid"' in page
    assert "홍길동(HONG GILDONG)" in page and "사용할 수 있는 인증서입니다." in page
    assert re.search(r"\d{3}일", page)  # days left
    assert fingerprint(stick_root(app)) == before


def test_foreign_expired_and_damaged_certificates_are_listed_as_such(app, live_server):
    drive = insert_drive(app)
    user = stick_root(app) / "NPKI" / "yessign" / "USER"
    now = datetime.datetime.now(datetime.timezone.utc)
    for folder, data in {"cn=foreign": foreign_certificate(now + datetime.timedelta(days=200)),
                         "cn=expired": foreign_certificate(now - datetime.timedelta(days=2)),
                         "cn=damaged": b"\x30\x82\x05\x00 truncated"}.items():
        (user / folder).mkdir(parents=True)
        (user / folder / "signCert.der").write_bytes(data)

    page = check(Customer(live_server.url), drive.id)

    assert customer_status_classes(page) == ["status-damaged", "status-expired", "status-not_ours"]
    assert "다른 기관에서 발급한 인증서입니다." in page and "기간이 끝난 인증서입니다." in page
    assert "손상된 인증서입니다." in page


def test_a_stick_without_certificates_says_so(app, live_server):
    drive = insert_drive(app)
    page = check(Customer(live_server.url), drive.id)
    assert 'id="stick-empty"' in page


def test_a_stick_pulled_before_reading_gets_the_drive_message(app, live_server):
    from hardware.demo import remove_demo_drive

    drive = insert_drive(app)
    customer = Customer(live_server.url)
    customer.get("/")
    customer.post("/start")
    customer.post("/journey/service", {"service": "check"})
    remove_demo_drive(app.extensions["kiosk"].settings.data_dir, "stick")
    customer.post("/journey/check", {"drive_id": drive.id})
    assert customer.status == 422 and 'role="alert"' in customer.page


def customer_status_classes(page: str) -> list[str]:
    return re.findall(r'class="certificate-card (status-\w+)"', page)

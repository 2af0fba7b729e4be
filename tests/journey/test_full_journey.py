"""Whole journeys through the real WSGI server: real SMTP on loopback (the code read from the mail), the
embedded CA, a demo drive; the written bundle opened with PyPinkSign, an independent NPKI reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypinksign import PinkSign

from tests.http_customer import Customer, insert_drive, issue_to, smtp_code
from tests.http_customer import walk_to_drive as shared_walk
from tests.walker import GOOD_PASSWORD, HONG


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, "smtp_url": smtp_server.url}


@pytest.fixture
def kiosk(app, live_server):
    return app, live_server


def walk_to_drive(customer: Customer, smtp_server, service="new", mails_before=0) -> None:
    shared_walk(customer, smtp_code(smtp_server, mails_before + 1), service)


def hongs_certificates(app):
    from kiosk.pii import customer_key

    services = app.extensions["kiosk"]
    return services.issuance.certificates_for(customer_key(services.settings.customer_hash_key, HONG.rrn))


def bundle_on(app) -> tuple[Path, Path]:
    root = app.extensions["kiosk"].settings.data_dir / "demo-drives"
    keys = sorted(root.rglob("signPri.key"))
    assert keys, "no signPri.key on any demo drive"
    return keys[-1].parent / "signCert.der", keys[-1]


def new_issuance(app, server, smtp_server) -> Customer:
    """Hong's first certificate, onto a demo stick, through the real server."""
    drive = insert_drive(app)
    customer = Customer(server.url)
    walk_to_drive(customer, smtp_server)
    issue_to(customer, drive.id)
    return customer


def test_new_issuance_end_to_end_writes_a_bundle_pypinksign_opens(kiosk, smtp_server):
    app, server = kiosk
    customer = new_issuance(app, server, smtp_server)
    assert customer.url.endswith("/journey/done")
    assert "USB를 빼셔도 됩니다" in customer.page
    cert, key = bundle_on(app)
    assert "/NPKI/yessign/USER/cn=홍길동(HONG GILDONG)" in str(cert)
    reader = PinkSign(pubkey_path=str(cert), prikey_path=str(key), prikey_password=GOOD_PASSWORD.encode())
    assert reader.cn().startswith("홍길동(HONG GILDONG)")
    assert reader.verify(reader.sign(b"banking login"), b"banking login")
    assert [r.status for r in hongs_certificates(app)] == ["delivered"]


def test_reissue_keeps_the_expiry_and_revokes_the_old_certificate(kiosk, smtp_server):
    app, server = kiosk
    first = new_issuance(app, server, smtp_server)
    first.post("/reset")
    old_cert, _ = bundle_on(app)
    old = PinkSign(pubkey_path=str(old_cert))

    second = Customer(server.url)
    walk_to_drive(second, smtp_server, service="reissue", mails_before=1)
    drive = insert_drive(app)  # the same stick, plugged in again after the first eject
    issue_to(second, drive.id)
    assert second.url.endswith("/journey/done")
    keys = sorted((app.extensions["kiosk"].settings.data_dir / "demo-drives").rglob("signCert.der"))
    new = [PinkSign(pubkey_path=str(k)) for k in keys if PinkSign(pubkey_path=str(k)).serialnum() != old.serialnum()]
    assert new and new[0].valid_date()[1] == old.valid_date()[1]
    records = hongs_certificates(app)
    assert sorted((r.status, r.revocation_reason) for r in records) == [
        ("delivered", None), ("revoked", "superseded")]
    # the replaced certificate's folder left the stick: the banking software lists only the new one
    assert len(keys) == 1 and PinkSign(pubkey_path=str(keys[0])).serialnum() != old.serialnum()
    assert not old_cert.parent.exists()

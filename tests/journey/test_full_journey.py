"""Whole journeys through the real WSGI server: real SMTP on loopback (the code read from the mail), the
embedded CA, a demo drive; the written bundle opened with PyPinkSign, an independent NPKI reader."""

from __future__ import annotations

import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from pypinksign import PinkSign

from tests.walker import GOOD_PASSWORD, HONG, identity_form


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Customer:
    """A customer's browser without JavaScript: cookies, CSRF tokens from the pages, redirects followed."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.token = ""
        self.page = ""
        self.url = ""

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return self._read(response)

    def post(self, path: str, data: dict | None = None) -> str:
        body = urllib.parse.urlencode({"csrf_token": self.token, **(data or {})}).encode()
        try:
            with self.opener.open(self.base + path, data=body, timeout=60) as response:
                return self._read(response)
        except urllib.error.HTTPError as error:
            if error.code == 422:
                return self._read(error)
            raise

    def _read(self, response) -> str:
        self.url = response.geturl()
        self.page = response.read().decode()
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.page)
        if found:
            self.token = found.group(1)
        return self.page


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, "smtp_url": smtp_server.url}


@pytest.fixture
def kiosk(app, live_server):
    return app, live_server


def insert_drive(app, name="stick"):
    from hardware.demo import insert_demo_drive

    drive = insert_demo_drive(app.extensions["kiosk"].settings.data_dir, name, label="MYUSB")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if any(d.id == drive.id and d.eligible for d in app.extensions["kiosk"].drives.drives()):
            return drive
        time.sleep(0.05)
    pytest.fail("the demo drive never appeared in the drive list")


def walk_to_drive(customer: Customer, smtp_server, service="new", mails_before=0) -> None:
    customer.get("/")
    customer.post("/start")
    customer.post("/journey/service", {"service": service})
    customer.post("/journey/consent", {"terms": "y", "privacy": "y"})
    customer.post("/journey/identity", identity_form())
    customer.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})
    assert customer.url.endswith("/journey/email"), customer.url
    mail = smtp_server.wait_for(mails_before + 1)
    code = re.search(r"\b(\d{6})\b", mail.get_content()).group(1)
    customer.post("/journey/email", {"code": code})
    if service == "reissue":
        assert customer.url.endswith("/journey/replace")
        serial = re.search(r'name="serial" value="([0-9a-fA-F]+)"', customer.page).group(1)
        customer.post("/journey/replace", {"serial": serial})
    assert customer.url.endswith("/journey/password"), customer.url
    customer.post("/journey/password", {"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    assert customer.url.endswith("/journey/drive"), customer.url


def issue_to(customer: Customer, drive_id: str) -> None:
    customer.post("/journey/drive", {"drive_id": drive_id})
    assert customer.url.endswith("/journey/issuing"), customer.url
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        request = urllib.request.Request(customer.base + "/journey/issuing/status", headers={"HX-Request": "true"})
        with customer.opener.open(request, timeout=30) as response:
            if response.headers.get("HX-Location"):
                target = re.search(r'"path": "([^"]+)"', response.headers["HX-Location"]).group(1)
                customer.get(target)
                return
        time.sleep(0.2)
    pytest.fail("issuance did not finish within 60 s")


def hongs_certificates(app):
    from kiosk.pii import customer_key

    services = app.extensions["kiosk"]
    return services.issuance.certificates_for(customer_key(services.settings.customer_hash_key, HONG.rrn))


def bundle_on(app) -> tuple[Path, Path]:
    root = app.extensions["kiosk"].settings.data_dir / "demo-drives"
    keys = sorted(root.rglob("signPri.key"))
    assert keys, "no signPri.key on any demo drive"
    return keys[-1].parent / "signCert.der", keys[-1]


def test_new_issuance_end_to_end_writes_a_bundle_pypinksign_opens(kiosk, smtp_server):
    app, server = kiosk
    drive = insert_drive(app)
    customer = Customer(server.url)
    walk_to_drive(customer, smtp_server)
    issue_to(customer, drive.id)
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
    drive = insert_drive(app)
    first = Customer(server.url)
    walk_to_drive(first, smtp_server)
    issue_to(first, drive.id)
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

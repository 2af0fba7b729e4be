"""The kiosk killed with SIGKILL (power cut, OOM killer) in the middle of issuing, then started again.

The certificate was signed and recorded 'issued', the bundle was on its way to a stick that never
answered. After the restart: the certificate is revoked (cessationOfOperation, and in the CRL), the
kiosk shows the attract screen, the audit chain is intact, and no private key — in PEM, in DER, as a
bare PKCS#8 structure — nor the customer's password is anywhere on the kiosk's disk or on the stick.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509

from tests.faults.fusefat import FrozenStick
from tests.http_customer import Customer, choose_drive, walk_to_drive
from tests.ops.kiosk_process import REPO, KioskProcess
from tests.waiting import wait_for
from tests.walker import GOOD_PASSWORD, HONG

# What a private key looks like at rest if it ever escaped memory.
PEM_MARKERS = (b"PRIVATE KEY-----",)
PKCS8_RSA = bytes.fromhex("020100300d06092a864886f70d0101010500")  # version 0, rsaEncryption, NULL
RSA_PRIVATE_KEY = bytes.fromhex("0201000282010100")                  # RSAPrivateKey v0 + 2048-bit n
PASSWORD_FORMS = (GOOD_PASSWORD.encode(), GOOD_PASSWORD.encode("utf-16-le"))
CA_KEYS = {"root.key.pem", "issuing.key.pem"}  # the CA's own keys, encrypted under its passphrase


def key_material(path: Path) -> list[str]:
    """What in this file looks like an unprotected private key or the customer's password."""
    data = path.read_bytes()
    found = []
    if path.name in CA_KEYS and path.parent.name == "ca":
        if not data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"):
            found.append("CA key not encrypted")
        return found
    found += [f"PEM {m!r}" for m in PEM_MARKERS if m in data]
    found += ["PKCS#8 RSA structure" for _ in [0] if PKCS8_RSA in data]
    found += ["RSAPrivateKey structure" for _ in [0] if RSA_PRIVATE_KEY in data]
    found += ["the certificate password" for form in PASSWORD_FORMS if form in data]
    found += ["signPri.key" for _ in [0] if path.name == "signPri.key"]
    return found


def scan(*roots: Path) -> dict[str, list[str]]:
    hits = {}
    for root in roots:
        paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
        for path in paths:
            found = key_material(path)
            if found:
                hits[str(path)] = found
    return hits


def outbox_code(database: Path, recipient: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            row = db.execute("SELECT body FROM demo_outbox WHERE recipient = ? ORDER BY id DESC LIMIT 1",
                             (recipient,)).fetchone()
        if row:
            return re.search(r"\b(\d{6})\b", row[0]).group(1)
        time.sleep(0.05)
    pytest.fail("no e-mail code in the demo outbox")


def certificates(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT serial, status, revocation_reason FROM certificates").fetchall()


def test_sigkill_mid_issuance_leaves_no_key_revokes_and_returns_to_attract(tmp_path):
    from hardware.demo import insert_demo_drive

    data_dir = tmp_path / "var"
    env = {**os.environ, "KIOSK_MODE": "demo", "KIOSK_DATA_DIR": str(data_dir)}
    subprocess.run([sys.executable, "-m", "kiosk", "init", "--demo"], cwd=REPO, env=env, check=True,
                   capture_output=True)
    database = data_dir / "kiosk.sqlite3"
    drive = insert_demo_drive(data_dir, "wedged", label="WEDGED")
    stick = FrozenStick(tmp_path, Path(drive.sys_path) / "root")
    first = KioskProcess(data_dir).start()
    second = None
    try:
        first.wait_until_serving()
        customer = Customer(first.url)
        walk_to_drive(customer, lambda: outbox_code(database, HONG.email))
        wait_for(lambda: drive.id in Customer(first.url).get("/drives/list"), "the wedged stick listed", timeout=10)
        stick.freeze()  # from now on every access to the stick blocks, like a wedged USB stick
        choose_drive(customer, drive.id)
        issued = wait_for(lambda: [r for r in certificates(database) if r[1] == "issued"],
                          "a certificate recorded 'issued'", timeout=30)
        time.sleep(0.5)  # the worker is now blocked in the write to the frozen stick
        assert certificates(database) == issued, "the write finished: the kill would not be mid-issuance"
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        first._log.close()
        stick.thaw()
        stick.close()

        second = KioskProcess(data_dir)
        second.log_path = tmp_path / "kiosk-restart.log"
        second.start().wait_until_serving()
        serial = issued[0][0]
        assert certificates(database) == [(serial, "revoked", "cessationOfOperation")]
        crl = x509.load_der_x509_crl((data_dir / "ca" / "crl.der").read_bytes())
        assert crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None
        attract = Customer(second.url)
        attract.get("/")
        assert attract.url == second.url + "/" and "화면을 터치하여 시작하세요" in attract.page
        audit = subprocess.run([sys.executable, "-m", "kiosk", "audit", "verify"], cwd=REPO, env=env,
                               capture_output=True, text=True, check=False)
        assert audit.returncode == 0 and "intact" in audit.stdout, audit.stdout
        with sqlite3.connect(database) as db:
            actions = [row[0] for row in db.execute("SELECT action FROM audit_log")]
        assert "certificate.revoked" in actions
    finally:
        for process in (first, second):
            if process is not None and process.process.poll() is None:
                process.stop()
        stick.close()
    hits = scan(data_dir, first.log_path, second.log_path, stick.image.image)
    assert hits == {}, hits
    assert scan(tmp_path / "var") == {}


def test_the_scan_finds_a_private_key_or_the_password_where_there_is_one(tmp_path):
    """The scan above proves something only if it can see a key: each form at rest is found."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    none = serialization.NoEncryption()
    forms = {
        "pem": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, none),
        "pkcs8.der": key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, none),
        "rsa.der": key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                     none),
        "log": b"... " + GOOD_PASSWORD.encode() + b" ...",
    }
    for name, data in forms.items():
        (tmp_path / name).write_bytes(b"\0" * 100 + data + b"\0" * 100)
    assert set(scan(tmp_path)) == {str(tmp_path / name) for name in forms}

"""A customer's drive fails them, through the whole journey over real HTTP: the stick pulled mid-write, a
full stick, a read-only stick, a stick with hostile contents. Each time the customer reads a plain message
on the drive step, picks another stick, and the same certificate (one serial, one registry row) reaches it
exactly once. The pulled and read-only sticks are real FAT filesystems (fusefat on the demo drive's
folder); the others are demo drives, which are real folders."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kiosk.pii import customer_key
from kiosk.pki.verify import verify_bundle
from tests.faults.fusefat import FrozenStick
from tests.http_customer import (
    Customer,
    choose_drive,
    insert_drive,
    issue_to,
    wait_for_issuing,
    walk_to_drive,
)
from tests.walker import GOOD_PASSWORD, HONG, last_code

MESSAGES = {
    "drive_removed": "저장하는 중에 USB가 빠졌습니다",
    "drive_full": "USB에 빈 공간이 부족합니다",
    "read_only": "쓰기 방지된 USB입니다",
    "unsafe_path": "USB 안의 폴더 구성이 안전하지 않아 저장하지 않았습니다",
}


def rows(app) -> list[dict]:
    store = app.extensions["kiosk"].store
    return [dict(r) for r in store.query_all("SELECT serial, status, delivered_to FROM certificates")]


def bundles(root: Path) -> list[Path]:
    return [p.parent for p in root.rglob("signCert.der") if (p.parent / "signPri.key").exists()]


def demo_root(app, name: str) -> Path:
    return app.extensions["kiosk"].settings.data_dir / "demo-drives" / name / "root"


def at_drive_step(app, live_server) -> Customer:
    customer = Customer(live_server.url)
    walk_to_drive(customer, lambda: last_code(app))
    return customer


def fails_then_delivers(app, live_server, customer: Customer, error: str, bad_root: Path) -> None:
    """After the failure: the message on the drive step, another stick, one certificate delivered once."""
    wait_for_issuing(customer)
    assert customer.url.endswith("/journey/drive"), customer.url
    assert customer.status == 200 and MESSAGES[error] in customer.page
    [first] = rows(app)
    assert first["status"] == "issued"
    good = insert_drive(app, "good")
    issue_to(customer, good.id)
    assert customer.url.endswith("/journey/done"), customer.url
    assert rows(app) == [{"serial": first["serial"], "status": "delivered", "delivered_to": "DEMO-GOOD"}]
    [folder] = bundles(demo_root(app, "good"))
    check = verify_bundle((folder / "signCert.der").read_bytes(), (folder / "signPri.key").read_bytes(),
                          GOOD_PASSWORD, idn=HONG.rrn.replace("-", ""),
                          chain_pem=app.extensions["kiosk"].issuance.ca_chain_pem())
    assert format(check.serial, "X").rjust(len(first["serial"]), "0") == first["serial"].upper()
    assert bundles(bad_root) == []
    hashed = customer_key(app.extensions["kiosk"].settings.customer_hash_key, HONG.rrn)
    assert len(app.extensions["kiosk"].issuance.certificates_for(hashed)) == 1


@pytest.fixture
def kiosk(app, live_server):
    return app, live_server


def test_a_stick_pulled_mid_write_then_another_stick_gets_the_same_certificate(kiosk, tmp_path):
    app, server = kiosk
    bad = insert_drive(app, "pulled")
    stick = FrozenStick(tmp_path, demo_root(app, "pulled"))
    try:
        customer = at_drive_step(app, server)
        stick.freeze()
        choose_drive(customer, bad.id)
        deadline = time.monotonic() + 30
        while not rows(app) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the worker is blocked on the frozen stick, mid-delivery
        stick.pull()
        fails_then_delivers(app, server, customer, "drive_removed", tmp_path / "nothing-left")
    finally:
        stick.close()
    stick.image.mount()
    try:
        assert bundles(stick.image.mountpoint) == []  # nothing that looks complete on the pulled stick
    finally:
        stick.image.unmount()


def test_a_full_stick(kiosk):
    app, server = kiosk
    bad = insert_drive(app, "full", size_bytes=4096)
    (demo_root(app, "full") / "photos.jpg").write_bytes(os.urandom(3000))
    customer = at_drive_step(app, server)
    choose_drive(customer, bad.id)
    fails_then_delivers(app, server, customer, "drive_full", demo_root(app, "full"))
    assert (demo_root(app, "full") / "photos.jpg").stat().st_size == 3000


def test_a_read_only_stick_the_kernel_refuses_to_write(kiosk, tmp_path):
    """udev said writable, the filesystem is mounted read-only (a lock switch noticed late): EROFS."""
    app, server = kiosk
    bad = insert_drive(app, "locked-late")
    stick = FrozenStick(tmp_path, demo_root(app, "locked-late"), read_only=True)
    try:
        customer = at_drive_step(app, server)
        choose_drive(customer, bad.id)
        fails_then_delivers(app, server, customer, "read_only", demo_root(app, "locked-late"))
    finally:
        stick.close()


def test_a_symlink_where_the_npki_folder_should_be_is_not_followed(kiosk, tmp_path):
    app, server = kiosk
    bad = insert_drive(app, "symlinked")
    elsewhere = tmp_path / "outside-the-stick"
    elsewhere.mkdir()
    (demo_root(app, "symlinked") / "NPKI").symlink_to(elsewhere)
    customer = at_drive_step(app, server)
    choose_drive(customer, bad.id)
    fails_then_delivers(app, server, customer, "unsafe_path", demo_root(app, "symlinked"))
    assert list(elsewhere.iterdir()) == []


def test_a_file_where_a_folder_should_be(kiosk):
    app, server = kiosk
    bad = insert_drive(app, "file-not-folder")
    (demo_root(app, "file-not-folder") / "NPKI" / "yessign").mkdir(parents=True)
    (demo_root(app, "file-not-folder") / "NPKI" / "yessign" / "USER").write_text("not a folder")
    customer = at_drive_step(app, server)
    choose_drive(customer, bad.id)
    fails_then_delivers(app, server, customer, "unsafe_path", demo_root(app, "file-not-folder"))
    assert (demo_root(app, "file-not-folder") / "NPKI" / "yessign" / "USER").read_text() == "not a folder"


def test_ten_thousand_entries_in_the_users_folder_do_not_stop_delivery(kiosk):
    """Hostile by size, not by shape: the bundle goes in beside them, and they are left alone."""
    app, server = kiosk
    drive = insert_drive(app, "crowded")
    users = demo_root(app, "crowded") / "NPKI" / "yessign" / "USER"
    users.mkdir(parents=True)
    for number in range(10_000):
        (users / f"cn=someone{number:05d}").touch()
    customer = at_drive_step(app, server)
    issue_to(customer, drive.id)
    assert customer.url.endswith("/journey/done"), customer.url
    assert [r["status"] for r in rows(app)] == ["delivered"]
    assert len(bundles(demo_root(app, "crowded"))) == 1
    assert sum(1 for _ in users.iterdir()) == 10_001

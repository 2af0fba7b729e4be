"""공동인증서 관리 on real filesystems (exFAT through exfat-fuse on the demo drive's folder, which holds
Hangul DN folders as the kernel's exfat does): a password change read back by PyPinkSign, and a stick
pulled in the middle of a password change or a copy, which leaves the customer's original intact."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from pypinksign import PinkSign

from kiosk.web.sessions import VISIT
from tests.faults.exfat import ExfatStick
from tests.http_customer import Customer, insert_drive, issue_to, wait_for_issuing, walk_to_drive
from tests.waiting import wait_for
from tests.walker import GOOD_PASSWORD, last_code

NEW_PASSWORD = "Branch#7319q"


def demo_root(app, name: str) -> Path:
    return app.extensions["kiosk"].settings.data_dir / "demo-drives" / name / "root"


def bundle_folders(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.glob("NPKI/*/USER/*/signCert.der"))


def files_of(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def opens_with(folder: Path, password: str) -> bool:
    try:
        reader = PinkSign(pubkey_path=str(folder / "signCert.der"), prikey_path=str(folder / "signPri.key"),
                          prikey_password=password.encode())
    except ValueError:
        return False
    return reader.verify(reader.sign(b"banking login"), b"banking login")


def writing(app) -> bool:
    """Some visit's worker is writing to a stick (and, the stick being frozen, blocked there)."""
    visits = [entry.session.get(VISIT) for _, entry in app.extensions["kiosk.sessions"].active()]
    return any(visit is not None and visit.run is not None and visit.run.writing for visit in visits)


@pytest.fixture
def exfat_stick(app, tmp_path):
    """A stick with a certificate the kiosk issued onto it, plugged in again."""
    drive = insert_drive(app, "exfat")
    stick = ExfatStick(tmp_path, demo_root(app, "exfat"))
    try:
        customer = Customer(app.config["LIVE_URL"])
        walk_to_drive(customer, lambda: last_code(app))
        issue_to(customer, drive.id)
        assert "USB를 빼셔도 됩니다" in customer.page
        customer.post("/reset")
        insert_drive(app, "exfat")
        yield drive, stick
    finally:
        stick.close()


@pytest.fixture
def kiosk(app, live_server):
    app.config["LIVE_URL"] = live_server.url
    return app


def change_password_up_to_the_new_one(customer: Customer, drive_id: str) -> None:
    customer.get("/")
    customer.post("/start")
    customer.post("/journey/service", {"service": "change_password"})
    customer.post("/journey/source", {"drive_id": drive_id})
    folder = re.search(r'name="folder" value="([^"]+)"', customer.page).group(1)
    customer.post("/journey/source/certificate", {"folder": folder, "password": GOOD_PASSWORD})
    assert customer.url.endswith("/journey/password"), customer.url


def test_a_changed_password_opens_the_stick_in_pypinksign_and_the_old_one_does_not(kiosk, exfat_stick):
    app, (drive, stick) = kiosk, exfat_stick
    customer = Customer(app.config["LIVE_URL"])
    change_password_up_to_the_new_one(customer, drive.id)
    customer.post("/journey/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    if customer.url.endswith("/journey/issuing"):
        wait_for_issuing(customer)
    assert "인증서 비밀번호를 바꿨습니다" in customer.page

    stick.unmount()
    assert stick.fsck_clean()
    stick.mount()
    [folder] = bundle_folders(stick.mountpoint)
    assert opens_with(folder, NEW_PASSWORD) and not opens_with(folder, GOOD_PASSWORD)
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]


def test_a_stick_pulled_while_its_password_is_changed_keeps_the_original(kiosk, exfat_stick):
    app, (drive, stick) = kiosk, exfat_stick
    before = files_of(stick.mountpoint)
    customer = Customer(app.config["LIVE_URL"])
    change_password_up_to_the_new_one(customer, drive.id)
    stick.freeze()
    customer.post("/journey/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    wait_for(lambda: writing(app), "the rewrite to start")
    stick.pull()
    wait_for_issuing(customer)
    assert customer.url.endswith("/journey/drive") and "저장하는 중에 USB가 빠졌습니다" in customer.page

    stick.mount()  # the customer's stick, as the next PC will see it
    [folder] = bundle_folders(stick.mountpoint)
    assert opens_with(folder, GOOD_PASSWORD)
    assert {k: v for k, v in files_of(stick.mountpoint).items() if "/." not in k} == before


def test_a_stick_pulled_mid_copy_leaves_the_original_and_another_stick_gets_the_copy(kiosk, exfat_stick):
    app, (drive, stick) = kiosk, exfat_stick
    original = files_of(stick.mountpoint)
    customer = Customer(app.config["LIVE_URL"])
    customer.get("/")
    customer.post("/start")
    customer.post("/journey/service", {"service": "copy"})
    customer.post("/journey/source", {"drive_id": drive.id})
    folder = re.search(r'name="folder" value="([^"]+)"', customer.page).group(1)
    customer.post("/journey/source/certificate", {"folder": folder, "password": GOOD_PASSWORD})
    assert customer.url.endswith("/journey/drive"), customer.url

    target = insert_drive(app, "target")
    target_stick = ExfatStick(stick.image.parent, demo_root(app, "target"))
    try:
        target_stick.freeze()
        customer.post("/journey/drive", {"drive_id": target.id})
        wait_for(lambda: writing(app), "the copy to start")
        target_stick.pull()
        wait_for_issuing(customer)
        assert customer.url.endswith("/journey/drive") and "저장하는 중에 USB가 빠졌습니다" in customer.page
        target_stick.mount()
        assert bundle_folders(target_stick.mountpoint) == []  # nothing half-copied that looks complete
    finally:
        target_stick.close()

    assert files_of(stick.mountpoint) == original
    good = insert_drive(app, "good")
    issue_to(customer, good.id)
    assert "인증서를 복사했습니다" in customer.page
    assert files_of(demo_root(app, "good")) == original

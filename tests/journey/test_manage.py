"""공동인증서 관리 over real HTTP, starting from what the kiosk itself wrote to a demo stick: renewal (갱신),
a password change (비밀번호 변경), a copy to another stick (인증서 복사), and deleting an expired
certificate from the check screen. Each test reads the stick afterwards as the customer's banking
software would: the key opened with the password, the certificate from the CA's own CRL."""

from __future__ import annotations

import datetime
import hashlib
import re
import shutil
from pathlib import Path

import pytest
from cryptography import x509

from kiosk.pki.ca import serial_hex
from kiosk.pki.errors import WrongPassword
from kiosk.pki.keyfile import decrypt_private_key
from kiosk.pki.verify import verify_bundle
from tests.http_customer import Customer, insert_drive, issue_backdated, issue_to, wait_for_issuing
from tests.journey.test_check import foreign_certificate
from tests.walker import GOOD_PASSWORD, HONG, identity_form, last_code

NEW_PASSWORD = "Branch#7319q"


def stick_root(app, name="stick") -> Path:
    return app.extensions["kiosk"].settings.data_dir / "demo-drives" / name / "root"


def certificate_folders(root: Path) -> list[Path]:
    return sorted(p for p in (root / "NPKI").glob("*/USER/*") if p.is_dir())


def files_of(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def issue_certificate(app, customer: Customer, drive, days_ago: int = 0) -> None:
    """A new issuance walked by the customer (`days_ago` backdates it); then the stick is plugged in again."""
    issue_backdated(app, customer, drive.id, days_ago)
    insert_drive(app)


def start(customer: Customer, service: str) -> None:
    customer.get("/")
    customer.post("/start")
    customer.post("/journey/service", {"service": service})


def prove_identity(app, customer: Customer) -> None:
    customer.post("/journey/consent", {"terms": "y", "privacy": "y"})
    customer.post("/journey/identity", identity_form(HONG))
    customer.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})
    customer.post("/journey/email", {"code": last_code(app)})
    assert customer.url.endswith("/journey/source"), customer.url


def pick_certificate(customer: Customer, password: str) -> str:
    folder = re.search(r'name="folder" value="([^"]+)"', customer.page).group(1)
    return customer.post("/journey/source/certificate", {"folder": folder, "password": password})


def test_a_certificate_in_its_last_month_is_renewed_onto_the_same_stick(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive, days_ago=345)
    [old_folder] = certificate_folders(stick_root(app))
    old = x509.load_der_x509_certificate((old_folder / "signCert.der").read_bytes())

    start(customer, "renew")
    prove_identity(app, customer)
    customer.post("/journey/source", {"drive_id": drive.id})
    assert "곧 만료됩니다" in customer.page
    pick_certificate(customer, "Wrong!pass99")
    assert customer.status == 422 and "남은 횟수: 4회" in customer.page
    pick_certificate(customer, GOOD_PASSWORD)
    assert customer.url.endswith(("/journey/issuing", "/journey/done")), customer.url  # the drive step taken
    if customer.url.endswith("/journey/issuing"):
        wait_for_issuing(customer)
    assert "인증서 갱신이 끝났습니다" in customer.page

    [new_folder] = certificate_folders(stick_root(app))  # the old folder is gone from the stick
    new_der = (new_folder / "signCert.der").read_bytes()
    check = verify_bundle(new_der, (new_folder / "signPri.key").read_bytes(), GOOD_PASSWORD,
                          idn=HONG.rrn.replace("-", ""), chain_pem=app.extensions["kiosk"].issuance.ca.chain_pem())
    new = x509.load_der_x509_certificate(new_der)
    assert check.serial != old.serial_number
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs(new.not_valid_after_utc - (now + datetime.timedelta(days=365))) < datetime.timedelta(days=2)
    crl = x509.load_der_x509_crl(app.extensions["kiosk"].issuance.crl_der())
    assert crl.get_revoked_certificate_by_serial_number(old.serial_number) is not None
    assert app.extensions["kiosk"].issuance.find(serial_hex(old.serial_number)).status == "revoked"


def test_a_certificate_far_from_expiry_is_not_offered_for_renewal(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive)

    start(customer, "renew")
    prove_identity(app, customer)
    customer.post("/journey/source", {"drive_id": drive.id})
    assert "갱신은 만료 30일 전부터 할 수 있습니다." in customer.page
    assert 'name="folder"' not in customer.page and 'id="source-none"' in customer.page


def test_the_password_is_changed_on_the_stick_and_the_old_one_no_longer_opens_it(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive)
    [folder] = certificate_folders(stick_root(app))
    certificate_before = (folder / "signCert.der").read_bytes()

    start(customer, "change_password")
    customer.post("/journey/source", {"drive_id": drive.id})
    pick_certificate(customer, GOOD_PASSWORD)
    assert customer.url.endswith("/journey/password"), customer.url
    assert "새 비밀번호 만들기" in customer.page
    customer.post("/journey/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    if customer.url.endswith("/journey/issuing"):
        wait_for_issuing(customer)
    assert "인증서 비밀번호를 바꿨습니다" in customer.page

    assert certificate_folders(stick_root(app)) == [folder]
    assert sorted(p.name for p in folder.iterdir()) == ["signCert.der", "signPri.key"]
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]  # nothing set aside is left
    assert (folder / "signCert.der").read_bytes() == certificate_before
    key_file = (folder / "signPri.key").read_bytes()
    verify_bundle(certificate_before, key_file, NEW_PASSWORD, idn=HONG.rrn.replace("-", ""))  # R kept
    with pytest.raises(WrongPassword):
        decrypt_private_key(key_file, GOOD_PASSWORD)


def test_five_wrong_passwords_lock_the_certificate_and_never_touch_the_stick(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive)
    before = files_of(stick_root(app))

    start(customer, "change_password")
    customer.post("/journey/source", {"drive_id": drive.id})
    for _ in range(5):
        pick_certificate(customer, "Wrong!pass99")
    assert "5번 틀려" in customer.page
    pick_certificate(customer, GOOD_PASSWORD)  # even the right one, now: the lock is staff's to lift
    assert "5번 틀려" in customer.page and customer.url.endswith("/journey/source/certificate")
    assert files_of(stick_root(app)) == before
    [lock] = app.extensions["kiosk"].lockouts.locked_keys()
    assert lock["customer_key"].startswith("certificate:")  # the certificate is locked, not the customer


def test_a_copy_goes_to_another_stick_byte_for_byte(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive)
    original = files_of(stick_root(app))

    start(customer, "copy")
    customer.post("/journey/source", {"drive_id": drive.id})
    pick_certificate(customer, GOOD_PASSWORD)
    assert customer.url.endswith("/journey/drive"), customer.url
    customer.post("/journey/drive", {"drive_id": drive.id})
    assert customer.status == 422 and "복사해 넣을 다른 USB" in customer.page
    second = insert_drive(app, "second")
    issue_to(customer, second.id)
    assert "인증서를 복사했습니다" in customer.page and "복사는 재발급이 아닙니다" in customer.page

    assert files_of(stick_root(app, "second")) == original
    assert files_of(stick_root(app)) == original


def test_a_copy_asks_before_it_replaces_another_certificate_of_the_same_name(app, live_server):
    """The target stick holds, in a folder of the same name, another CA's certificate valid for 400 days:
    the copy shows both (the later expiry first) and writes nothing until the customer says yes; 아니요
    leaves the stick as it was (issue 26, item 6)."""
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive)
    original = files_of(stick_root(app))
    (folder,) = certificate_folders(stick_root(app))
    second = insert_drive(app, "second")
    foreign_certificates(stick_root(app, "second"), {folder.name: 400})
    theirs = files_of(stick_root(app, "second"))

    start(customer, "copy")
    customer.post("/journey/source", {"drive_id": drive.id})
    pick_certificate(customer, GOOD_PASSWORD)
    customer.post("/journey/drive", {"drive_id": second.id})
    wait_for_issuing(customer)  # the issuing worker reads the stick, writes nothing and asks
    assert 'id="replace-question"' in customer.page, customer.page[-3000:]
    compared = customer.page.split('id="replace-compare"', 1)[1]
    assert compared.index("이 USB에 있는 인증서") < compared.index("복사할 인증서")  # 400 days before 365
    assert files_of(stick_root(app, "second")) == theirs, "written before the customer said yes"
    customer.get("/journey/drive")  # the question stays until it is answered
    assert 'id="replace-question"' in customer.page

    customer.post("/journey/drive", {"drive_id": second.id, "replace": "no"})  # back to the list, untouched
    assert 'id="replace-question"' not in customer.page and 'id="drive-list"' in customer.page
    assert files_of(stick_root(app, "second")) == theirs
    customer.post("/journey/drive", {"drive_id": second.id, "replace": "yes"})  # a yes nobody was asked for
    wait_for_issuing(customer)
    assert 'id="replace-question"' in customer.page
    assert files_of(stick_root(app, "second")) == theirs

    customer.post("/journey/drive", {"drive_id": second.id, "replace": "yes"})
    wait_for_issuing(customer)
    assert "인증서를 복사했습니다" in customer.page
    assert files_of(stick_root(app, "second")) == original


def test_a_copy_onto_a_stick_that_holds_the_same_certificate_asks_nothing(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive)
    second = insert_drive(app, "second")
    (folder,) = certificate_folders(stick_root(app))
    shutil.copytree(stick_root(app) / "NPKI", stick_root(app, "second") / "NPKI")  # copied at home before

    start(customer, "copy")
    customer.post("/journey/source", {"drive_id": drive.id})
    pick_certificate(customer, GOOD_PASSWORD)
    issue_to(customer, second.id)
    assert "인증서를 복사했습니다" in customer.page
    assert files_of(stick_root(app, "second")) == files_of(stick_root(app))


def foreign_certificates(root: Path, days_left: dict[str, int]) -> Path:
    """Another CA's certificates, each in its folder with a key file and `days_left` until it expires
    (negative: expired that long ago), in the stick's USER folder, which is returned."""
    user = root / "NPKI" / "yessign" / "USER"
    now = datetime.datetime.now(datetime.timezone.utc)
    for folder, days in days_left.items():
        (user / folder).mkdir(parents=True)
        (user / folder / "signCert.der").write_bytes(foreign_certificate(now + datetime.timedelta(days=days)))
        (user / folder / "signPri.key").write_bytes(b"key")
    return user


def expired_and_current(root: Path) -> Path:
    """An expired certificate (`cn=expired`) and a current one (`cn=current`) from another CA."""
    return foreign_certificates(root, {"cn=expired": -3, "cn=current": 200})


def test_an_expired_certificate_is_deleted_from_the_stick_after_a_confirmation(app, live_server):
    drive = insert_drive(app)
    user = expired_and_current(stick_root(app))
    customer = Customer(live_server.url)
    start(customer, "check")
    customer.post("/journey/check", {"drive_id": drive.id})
    assert customer.page.count("이 인증서 지우기") == 1  # only the expired one

    customer.post("/journey/check/delete", {"folder": "NPKI/yessign/USER/cn=expired"})
    assert 'id="delete-question"' in customer.page and (user / "cn=expired").exists()
    customer.post("/journey/check/delete", {"folder": "NPKI/yessign/USER/cn=expired", "confirm": "yes"})
    assert 'id="deleted"' in customer.page
    assert not (user / "cn=expired").exists() and (user / "cn=current" / "signPri.key").exists()
    assert "기간이 끝난 인증서입니다" not in customer.page  # the list is read again


def test_a_write_protected_stick_is_read_but_nothing_is_deleted_from_it(app, live_server):
    data_dir = app.extensions["kiosk"].settings.data_dir
    user = data_dir / "demo-drives" / "locked" / "root" / "NPKI" / "yessign" / "USER" / "cn=expired"
    user.mkdir(parents=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    (user / "signCert.der").write_bytes(foreign_certificate(now - datetime.timedelta(days=3)))
    drive = insert_drive(app, "locked", read_only=True)  # waits until the kiosk lists it
    customer = Customer(live_server.url)
    start(customer, "check")
    customer.post("/journey/check", {"drive_id": drive.id})
    assert customer.status == 200 and "기간이 끝난 인증서입니다" in customer.page

    customer.post("/journey/check/delete", {"folder": "NPKI/yessign/USER/cn=expired", "confirm": "yes"})
    assert customer.status == 422 and "쓰기 방지된 USB입니다" in customer.page
    assert (user / "signCert.der").exists()


def test_a_damaged_key_file_is_told_as_such_and_not_counted_as_a_wrong_password(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive)
    [folder] = certificate_folders(stick_root(app))
    (folder / "signPri.key").write_bytes(b"\x30\x82\x01\x00 not a key at all")

    start(customer, "change_password")
    customer.post("/journey/source", {"drive_id": drive.id})
    pick_certificate(customer, GOOD_PASSWORD)
    assert customer.status == 422 and "개인키 파일이 손상되어 열 수 없습니다" in customer.page
    assert app.extensions["kiosk"].lockouts.locked_keys() == []
    assert app.extensions["kiosk"].store.query_all("SELECT * FROM lockouts") == []

"""kiosk/journey/stick.py: the stick the customer brought, read from a real demo stick holding what the kiosk
itself delivered; each certificate on it is one object, its files attached when they can be read."""

from __future__ import annotations

import unicodedata

from kiosk.identity.ports import MAX_ACCOUNT_FAILURES
from kiosk.journey.answer import Outcome
from kiosk.journey.machine import Service, Step
from kiosk.journey.stick import Stick
from kiosk.pki.inspection import CertificateOnStick, Status
from tests.demo_drives import plug_in
from tests.flow_customer import at_email, issued_onto, last_code, source_read, started
from tests.walker import GOOD_PASSWORD

NEW_PASSWORD = "Other!7413y"


def stick_root(kiosk, name="stick"):
    return kiosk.settings.data_dir / "demo-drives" / name / "root"


def test_the_check_reads_each_certificate_as_one_object_with_its_files(kiosk):
    drive = plug_in(kiosk)
    serial = issued_onto(kiosk, drive)
    broken = stick_root(kiosk) / "NPKI" / "yessign" / "USER" / "cn=broken"
    broken.mkdir(parents=True)
    (broken / "signCert.der").write_bytes(b"not a certificate")  # a customer's stick is hostile input
    plug_in(kiosk)
    visit = started(kiosk, Service.CHECK)
    assert kiosk.flow.stick.check(visit, drive.id).ok
    by_status = {cert.status: cert for cert in visit.stick.certificates}
    assert set(by_status) == {Status.VALID, Status.DAMAGED} and visit.stick.drive_id == drive.id
    ours, damaged = by_status[Status.VALID], by_status[Status.DAMAGED]
    assert ours.serial == ours.held.serial == serial
    assert ours.held.key_file is None  # the check never reads a key
    assert damaged.held is None and not kiosk.flow.stick.deletable(visit, damaged.folder)


def test_a_stick_the_kiosk_cannot_read_is_an_answer_with_the_drives_reason(kiosk):
    drive = plug_in(kiosk, "ntfs", fs_type="ntfs")
    visit = started(kiosk, Service.CHECK)
    answer = kiosk.flow.stick.check(visit, drive.id)
    assert (answer.outcome, answer.reason) == (Outcome.DRIVE_FAILED, "unsupported_fs")
    assert visit.stick is None


def test_a_revoked_certificate_can_be_deleted_from_the_stick_and_the_stick_is_read_again(kiosk):
    drive = plug_in(kiosk)
    serial = issued_onto(kiosk, drive)
    revoking = at_email(kiosk, Service.REVOKE)
    kiosk.flow.check_code(revoking, last_code(kiosk))
    assert kiosk.flow.revoke_lost(revoking, serial).ok
    plug_in(kiosk)
    visit = started(kiosk, Service.CHECK)
    kiosk.flow.stick.check(visit, drive.id)
    [revoked] = visit.stick.certificates
    assert revoked.status is Status.REVOKED and kiosk.flow.stick.deletable(visit, revoked.folder)
    assert kiosk.flow.stick.delete(visit, revoked.folder).ok
    assert visit.stick.certificates == []
    assert kiosk.audit.recent(1)[0]["action"] == "certificate.deleted_from_stick"


def test_a_certificate_not_yet_in_its_renewal_window_cannot_start_a_renewal(kiosk):
    drive = plug_in(kiosk)
    issued_onto(kiosk, drive)
    plug_in(kiosk)
    visit = at_email(kiosk, Service.RENEW)
    kiosk.flow.check_code(visit, last_code(kiosk))
    assert kiosk.flow.stick.read_source(visit, drive.id).ok
    [cert] = visit.stick.certificates
    assert cert.held.key_file and kiosk.flow.stick.why_not_usable(visit, cert) == "not_yet"
    answer = kiosk.flow.stick.choose_source(visit, cert.folder, GOOD_PASSWORD)
    assert answer.outcome is Outcome.NOT_USABLE and visit.journey.current is Step.SOURCE


def test_a_password_change_opens_the_key_counts_wrong_passwords_and_writes_only_when_started(kiosk):
    drive = plug_in(kiosk)
    visit = source_read(kiosk, drive, Service.CHANGE_PASSWORD)
    [cert] = visit.stick.certificates
    wrong = kiosk.flow.stick.choose_source(visit, cert.folder, "Wrong!0000z")
    assert (wrong.outcome, wrong.tries_left) == (Outcome.WRONG, MAX_ACCOUNT_FAILURES - 1)
    assert kiosk.flow.stick.choose_source(visit, cert.folder, GOOD_PASSWORD).ok
    assert visit.source is cert and visit.opened is not None
    kiosk.flow.set_password(visit, NEW_PASSWORD)
    assert visit.journey.current is Step.DRIVE and visit.worker is None  # nothing started by itself
    assert kiosk.flow.delivery.start_writing_back(visit)
    visit.worker.join(60)
    assert visit.run.finished and visit.run.error is None and visit.journey.current is Step.DONE
    plug_in(kiosk)
    again = started(kiosk, Service.CHANGE_PASSWORD)
    kiosk.flow.stick.read_source(again, drive.id)
    [rewritten] = again.stick.certificates
    assert rewritten.serial == cert.serial and rewritten.held.unlock(NEW_PASSWORD)


def test_a_folder_a_form_names_in_nfc_finds_the_certificate_a_mac_wrote_in_nfd():
    folder = "NPKI/yessign/USER/cn=홍길동"
    on_stick = CertificateOnStick(unicodedata.normalize("NFD", folder), Status.DAMAGED)
    stick = Stick("demo:stick", [on_stick])
    assert stick.find(unicodedata.normalize("NFC", folder)) is on_stick
    assert stick.find("NPKI/yessign/USER/cn=someone") is None

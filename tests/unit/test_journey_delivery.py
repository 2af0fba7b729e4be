"""kiosk/journey/delivery.py: the drive step and the issuing worker, writing to real demo sticks (folders
the kiosk mounts, writes durably, verifies and ejects) with the demo CA signing."""

from __future__ import annotations

from kiosk.journey.answer import Outcome
from kiosk.journey.machine import Service, Step
from tests.demo_drives import plug_in
from tests.flow_customer import at_drive, delivered, source_read
from tests.walker import GOOD_PASSWORD


def signed_certificate_files(kiosk, name="stick"):
    return sorted(p.name for p in (kiosk.settings.data_dir / "demo-drives" / name / "root").rglob("sign*"))


def test_a_new_certificate_is_written_verified_ejected_and_audited(kiosk):
    drive = plug_in(kiosk)
    visit = delivered(kiosk, at_drive(kiosk), drive)
    assert visit.run.stages == {"prepare": "done", "write": "done", "verify": "done", "eject": "done"}
    assert visit.run.ejected and visit.journey.current is Step.DONE
    assert signed_certificate_files(kiosk) == ["signCert.der", "signPri.key"]
    [record] = kiosk.issuance.certificates_for(visit.customer.customer_key)
    assert (record.serial, record.status) == (visit.delivered_serial, "delivered")
    assert kiosk.audit.recent(1)[0]["action"] == "certificate.delivered"


def test_a_drive_that_is_not_plugged_in_is_not_taken(kiosk):
    visit = at_drive(kiosk)
    answer = kiosk.flow.delivery.choose_drive(visit, "demo:nowhere")
    assert (answer.outcome, answer.reason) == (Outcome.NOT_USABLE, "pick_drive")
    assert visit.journey.current is Step.DRIVE and visit.run is None


def test_a_full_stick_sends_the_customer_back_to_the_drives_with_the_same_certificate(kiosk):
    tiny, roomy = plug_in(kiosk, "tiny", size_bytes=1024), plug_in(kiosk, "roomy")
    visit = at_drive(kiosk)
    assert kiosk.flow.delivery.choose_drive(visit, tiny.id).ok
    kiosk.flow.delivery.issue_and_deliver(visit)
    assert visit.run.error == "drive_full" and visit.journey.current is Step.DRIVE
    first = visit.prepared.serial
    delivered(kiosk, visit, roomy)
    assert visit.delivered_serial == first


def test_a_copy_goes_to_another_stick_than_the_one_it_came_from(kiosk):
    source = plug_in(kiosk)
    visit = source_read(kiosk, source, Service.COPY)
    [cert] = visit.stick.certificates
    assert kiosk.flow.stick.choose_source(visit, cert.folder, GOOD_PASSWORD).ok
    assert not kiosk.flow.delivery.start_writing_back(visit)  # a copy is written where the customer says
    same = kiosk.flow.delivery.choose_drive(visit, source.id)
    assert (same.outcome, same.reason) == (Outcome.NOT_USABLE, "same_drive")
    delivered(kiosk, visit, plug_in(kiosk, "other"))
    assert signed_certificate_files(kiosk, "other") == ["signCert.der", "signPri.key"]
    assert visit.delivered_serial == cert.serial


def test_a_visit_ending_before_its_certificate_reached_a_stick_revokes_it(kiosk):
    tiny = plug_in(kiosk, "tiny", size_bytes=1024)
    visit = at_drive(kiosk)
    kiosk.flow.delivery.choose_drive(visit, tiny.id)
    kiosk.flow.delivery.issue_and_deliver(visit)
    customer_key = visit.customer.customer_key
    kiosk.flow.end_visit(visit, "idle")
    [record] = kiosk.issuance.certificates_for(customer_key)
    assert (record.status, record.revocation_reason) == ("revoked", "cessationOfOperation")

"""A customer driven through the flow's own methods, with no web in between: the third way of driving the
kiosk (beside tests/walker.py's test client and tests/http_customer.py's real HTTP), for tests that pin
down kiosk/journey/ itself. Every step asserts the flow's answer, so a walk that goes wrong says where."""

from __future__ import annotations

import re
from datetime import date

from hardware import Drive
from kiosk.identity.demo import DemoCustomer
from kiosk.journey.answer import Answer
from kiosk.journey.machine import Service
from kiosk.journey.visit import Visit
from kiosk.wiring import Kiosk
from tests.demo_drives import plug_in
from tests.walker import GOOD_PASSWORD, HONG

CODE_MAIL = "인증번호는 {code} 입니다."


def started(kiosk: Kiosk, service: Service) -> Visit:
    visit = kiosk.flow.start()
    kiosk.flow.choose_service(visit, service)
    return visit


def identify(kiosk: Kiosk, visit: Visit, person: DemoCustomer = HONG, **changes) -> Answer:
    facts = {"name": person.name, "rrn": person.rrn.replace("-", ""), "id_kind": person.id_kind,
             "issue_date": date.fromisoformat(person.id_issue_date), **changes}
    return kiosk.flow.identify(visit, facts["name"], facts["rrn"], facts["id_kind"], facts["issue_date"])


def last_code(kiosk: Kiosk) -> str:
    """The code the demo outbox holds (what the customer reads in the mail)."""
    return re.search(r"\b(\d{6})\b", kiosk.code_sender.recent(1)[0]["body"]).group(1)


def at_email(kiosk: Kiosk, service: Service = Service.NEW, person: DemoCustomer = HONG) -> Visit:
    """Identified, the account's PIN proved, the e-mail code sent."""
    visit = started(kiosk, service)
    kiosk.flow.consent(visit)
    assert identify(kiosk, visit, person).ok
    assert kiosk.flow.verify_account(visit, person.account, person.pin).ok
    assert kiosk.flow.send_code(visit, "code", CODE_MAIL).ok
    return visit


def at_drive(kiosk: Kiosk, service: Service = Service.NEW, person: DemoCustomer = HONG) -> Visit:
    """All the way to the drive step of a new issuance (or a reissue of the first replaceable one)."""
    visit = at_email(kiosk, service, person)
    assert kiosk.flow.check_code(visit, last_code(kiosk)).ok
    if service is Service.REISSUE:
        assert kiosk.flow.choose_replacement(visit, kiosk.flow.replaceable(visit)[0].serial).ok
    kiosk.flow.set_password(visit, GOOD_PASSWORD)
    return visit


def delivered(kiosk: Kiosk, visit: Visit, drive: Drive) -> Visit:
    """The drive chosen and the worker run to its end on this thread (the web starts it on its own)."""
    assert kiosk.flow.delivery.choose_drive(visit, drive.id).ok
    kiosk.flow.delivery.issue_and_deliver(visit)
    assert visit.run.finished and visit.run.error is None, visit.run
    return visit


def issued_onto(kiosk: Kiosk, drive: Drive, person: DemoCustomer = HONG) -> str:
    """A new certificate for `person`, delivered to `drive` as a customer would get it; its serial."""
    visit = delivered(kiosk, at_drive(kiosk, person=person), drive)
    serial = visit.delivered_serial
    kiosk.flow.end_visit(visit, "test")
    return serial


def source_read(kiosk: Kiosk, drive: Drive, service: Service, person: DemoCustomer = HONG) -> Visit:
    """A certificate the kiosk delivered onto `drive`, the stick plugged back in and read as where
    `service` (a copy, a password change) starts; no customer identified (neither asks for one)."""
    issued_onto(kiosk, drive, person)
    plug_in(kiosk, drive.device.removeprefix("demo:"))
    visit = started(kiosk, service)
    assert kiosk.flow.stick.read_source(visit, drive.id).ok
    return visit

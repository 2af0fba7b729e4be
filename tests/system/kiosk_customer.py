"""A customer at the booted appliance's kiosk, over HTTP from the host: the e-mail code read from the
guest's demo outbox, the drive list waited on, a listed stick chosen and written. Shared by
test_appliance.py and test_update.py (which issues a certificate on the updated slot)."""

from __future__ import annotations

import re
import time

from tests.http_customer import Customer, choose_drive, wait_for_issuing
from tests.system.appliance import Appliance


def outbox_code(appliance: Appliance) -> str:
    """The newest e-mail code in the demo outbox, read from the guest's database (read-only)."""
    result = appliance.run(
        "/opt/cert-kiosk/.venv/bin/python -c \"import sqlite3; c = sqlite3.connect("
        "'file:/var/lib/cert-kiosk/kiosk.sqlite3?mode=ro', uri=True); "
        "print(c.execute('SELECT body FROM demo_outbox ORDER BY id DESC LIMIT 1').fetchone()[0])\"", check=True)
    return re.search(r"\b(\d{6})\b", result.out)[1]


def drive_buttons(customer: Customer) -> str:
    return customer.get("/drives/list")


def wait_listed(customer: Customer, label: str, timeout: float = 60, interval: float = 0.5) -> str | None:
    """Poll the drive list until a stick labelled `label` is on it; the first offered drive's id (None
    when none is offered: a stick that cannot be written)."""
    deadline = time.monotonic() + timeout
    while label not in drive_buttons(customer):
        assert time.monotonic() < deadline, f"the stick {label} never appeared: {customer.page}"
        time.sleep(interval)
    offered = re.search(r'name="drive_id" value="(\w+)"', customer.page)
    return offered[1] if offered else None


def choose_when_listed(customer: Customer, label: str) -> None:
    """At the drive step: wait until the stick labelled `label` is offered, then choose it."""
    drive_id = wait_listed(customer, label)
    customer.get("/journey/drive")
    choose_drive(customer, drive_id)


def write_onto(customer: Customer, label: str) -> None:
    """At the drive step: choose the stick labelled `label` once it is offered and wait until the kiosk
    is done with it (the done page, or the step it sends the customer back to)."""
    choose_when_listed(customer, label)
    wait_for_issuing(customer, timeout=300, interval=0.5)

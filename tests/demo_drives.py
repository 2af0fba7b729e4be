"""Plugging the kiosk's demo sticks in from a test: every way of driving the kiosk (the test client, real
HTTP, the flow itself) plugs sticks in the same way."""

from __future__ import annotations

import time

import pytest

from hardware import Drive
from hardware.demo import insert_demo_drive
from kiosk.wiring import Kiosk


def plug_in(kiosk: Kiosk, name: str = "stick", **options) -> Drive:
    """Plug a demo stick in (the same name: the same stick back, files kept) and wait until the kiosk's
    drive list shows it."""
    drive = insert_demo_drive(kiosk.settings.data_dir, name, label="MYUSB", **options)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if any(d.id == drive.id for d in kiosk.drives.drives()):
            return drive
        time.sleep(0.05)
    pytest.fail("the demo drive never appeared in the drive list")

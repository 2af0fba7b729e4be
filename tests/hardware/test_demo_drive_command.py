"""`kiosk demo-drives insert|remove`: a tester plugs demo sticks in and out of a running kiosk from the
command line (after an issuance the kiosk ejects the stick; inserting it again makes it usable, with its
certificate still on it, as a real stick would be)."""

from __future__ import annotations

import re
import time

import pytest
from click.testing import CliRunner

from kiosk.cli import main


@pytest.fixture
def kiosk_command(monkeypatch, app):
    monkeypatch.setenv("KIOSK_DATA_DIR", str(app.extensions["kiosk"].settings.data_dir))
    monkeypatch.setenv("KIOSK_MODE", "demo")
    # the running kiosk's CA process (a stick with a certificate is issued one over CMP, as the kiosk is)
    monkeypatch.setenv("KIOSK_CA_LISTEN", app.extensions["kiosk"].settings.ca_listen)
    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(main, list(args))
        assert (result.exit_code == 0) is ok, result.output
        return result.output

    return run


def listed(app) -> dict[str, bool]:
    deadline = time.monotonic() + 5
    before = None
    while time.monotonic() < deadline:  # the kiosk's watcher sees the folder change within a poll
        now = {d.label: d.eligible for d in app.extensions["kiosk"].drives.drives()}
        if now == before:
            return now
        before = now
        time.sleep(0.3)
    return before


def test_sticks_plugged_in_and_out_from_the_command_line_reach_the_running_kiosk(app, kiosk_command):
    kiosk_command("demo-drives", "insert", "mine", "--label", "내 USB")
    kiosk_command("demo-drives", "insert", "locked", "--read-only")
    assert listed(app) == {"내 USB": True, "locked": False}
    kiosk_command("demo-drives", "remove", "locked")
    assert listed(app) == {"내 USB": True}


def test_an_ejected_stick_inserted_again_keeps_its_files_and_label(app, kiosk_command):
    kiosk_command("demo-drives", "insert", "mine", "--label", "우체국 USB")
    root = app.extensions["kiosk"].settings.data_dir / "demo-drives" / "mine" / "root"
    (root / "kept.txt").write_text("still here")
    (root.parent / "ejected").touch()     # what the kiosk's eject does to a demo stick
    kiosk_command("demo-drives", "insert", "mine")
    assert (root / "kept.txt").read_text() == "still here"
    assert not (root.parent / "ejected").exists()
    assert listed(app) == {"우체국 USB": True}


def test_a_name_that_is_not_a_demo_stick_name_is_refused_politely(kiosk_command):
    output = kiosk_command("demo-drives", "insert", "../etc", ok=False)
    assert "Invalid value for NAME" in output


def test_a_demo_stick_with_an_expiring_certificate_lets_a_tester_try_renewal(kiosk_command, app, live_server):
    """The certificate is issued by the kiosk's own pipeline, back-dated, and the running kiosk offers it
    for 갱신 to 홍길동 (the renewal walk itself is tests/journey/test_manage.py)."""
    from tests.http_customer import Customer
    from tests.journey.test_manage import prove_identity, start
    from tests.waiting import wait_for

    output = kiosk_command("demo-drives", "insert", "renewal", "--expiring-certificate")
    assert "expiring in 20 days" in output
    drive = wait_for(lambda: next((d for d in app.extensions["kiosk"].drives.drives() if d.label == "renewal"),
                                  None), "the stick in the kiosk's list")
    customer = Customer(live_server.url)
    start(customer, "renew")
    prove_identity(app, customer)
    customer.post("/journey/source", {"drive_id": drive.id})
    assert 'name="folder"' in customer.page and "곧 만료됩니다" in customer.page, (customer.url, " ".join(re.sub(r"<[^>]+>", " ", customer.page).split())[-1200:])

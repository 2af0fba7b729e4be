"""시스템 업데이트 on the staff console (issue 29): the bundles on a technician's stick, judged by the real
`rauc info` against the keyring of a RAUC system configuration, as the appliance's console judges them.
Installing needs RAUC's service on the system bus, which only the booted appliance has
(tests/system/test_update.py installs through this console there); here its absence is what is tested."""

from __future__ import annotations

import re
import shutil
import time

import pytest

from hardware.demo import demo_drives_dir
from kiosk.build import version
from kiosk.staff import add_staff
from tests.demo_drives import plug_in
from tests.rauc_bundles import (
    StandInForRaucsService,
    lab_signing,
    signed_by_a_stranger,
    small_bundle,
    truncated,
)
from tests.staff_console import offered_bundles
from tests.tools import require_command

PIN = "482916"
COMPATIBLE = "cert-kiosk-lab"
NEWER = version() + "+next"


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, object]:
    """What a technician's stick may hold, each made the way the fleet's signer or a stranger makes it."""
    require_command("rauc", "rauc")
    work = tmp_path_factory.mktemp("bundles")
    newer = small_bundle(work / f"cert-kiosk-lab_{NEWER}.raucb", COMPATIBLE, NEWER)
    (work / "notes.raucb").write_text("not a bundle: a technician's text file with the wrong name\n")
    return {
        newer.name: "installable",
        small_bundle(work / "cert-kiosk-lab_0.0.9.raucb", COMPATIBLE, "0.0.9").name: "not_newer",
        small_bundle(work / "other-product_9.0.raucb", "cert-kiosk-other-product", "9.0").name: "other_device",
        signed_by_a_stranger(newer, work / "stranger.raucb").name: "signature_refused",
        truncated(newer, work / "cut-short.raucb", 64 * 1024).name: "unreadable",
        "notes.raucb": "unreadable",
        "work": work,
    }


@pytest.fixture
def app_config(app_config, tmp_path):
    """RAUC's system configuration as the appliance has it (appliance/rauc/system.conf), keyring and all."""
    conf = tmp_path / "rauc" / "system.conf"
    conf.parent.mkdir()
    conf.write_text(f"[system]\ncompatible={COMPATIBLE}\nbootloader=noop\n\n"
                    f"[keyring]\npath={lab_signing() / 'cert.pem'}\n")
    app_config["rauc_conf"] = conf
    return app_config


@pytest.fixture
def staff(app, client):
    add_staff(app.extensions["kiosk"].store, "김직원", PIN)
    assert client.post("/staff/sign-in", data={"name": "김직원", "pin": PIN}).status_code == 303
    return client


def technicians_stick(app, bundles) -> str:
    kiosk = app.extensions["kiosk"]
    drive = plug_in(kiosk, "update")
    root = demo_drives_dir(kiosk.settings.data_dir) / "update" / "root"
    for name in bundles:
        if name != "work":
            shutil.copy(bundles["work"] / name, root / name)
    (root / "README.txt").write_text("a file that is not a bundle is not listed\n")
    return drive.id


def test_only_a_newer_bundle_signed_by_the_fleet_for_this_kiosk_is_offered(app, staff, bundles, caplog):
    technicians_stick(app, bundles)

    page = staff.post("/staff/update/find").get_data(as_text=True)

    expected = {name: verdict for name, verdict in bundles.items() if name != "work"}
    assert offered_bundles(page) == expected
    assert re.findall(r'data-install="([^"]+)"', page) == [f"cert-kiosk-lab_{NEWER}.raucb"]
    assert "cert-kiosk lab development updates" in page, "the signer the staff are told"
    assert "README.txt" not in page
    assert "update.bundles_found bundles=6 installable=1" in caplog.text


def console_state_until(staff, state: str) -> str:
    """The console's polled state, until its update progress says `state` (the install runs on a thread)."""
    deadline = time.monotonic() + 30
    while f'data-state="{state}"' not in (page := staff.get("/staff/state").get_data(as_text=True)):
        assert time.monotonic() < deadline, page
        time.sleep(0.1)
    return page


def test_without_raucs_service_the_install_fails_politely_and_the_kiosk_keeps_serving(app, staff, bundles, caplog):
    drive = technicians_stick(app, bundles)

    answer = staff.post("/staff/update/install", data={"drive": drive, "bundle": f"cert-kiosk-lab_{NEWER}.raucb"})
    assert answer.status_code == 200

    assert "업데이트를 설치하지 못했습니다" in console_state_until(staff, "failed")
    assert "update.install_failed" in caplog.text and "UpdaterUnavailable" in caplog.text
    kiosk = app.extensions["kiosk"]
    assert not kiosk.state.out_of_service
    assert list((kiosk.settings.data_dir / "updates").iterdir()) == [], "the copy is not left behind"
    assert staff.post("/staff/update/restart").status_code == 409, "nothing was installed to restart into"
    assert 'id="staff-update-find"' in staff.get("/staff").get_data(as_text=True), "the staff may try again"


def test_a_bundle_the_kiosk_would_not_offer_is_refused_when_posted_all_the_same(app, staff, bundles):
    drive = technicians_stick(app, bundles)

    for name in ("stranger.raucb", "cert-kiosk-lab_0.0.9.raucb", "cut-short.raucb", "../../etc/passwd", "nothing"):
        answer = staff.post("/staff/update/install", data={"drive": drive, "bundle": name})
        assert answer.status_code == 409, name
        assert "이 업데이트는 설치할 수 없습니다" in answer.get_data(as_text=True)
    assert not app.extensions["kiosk"].state.out_of_service


def test_updates_are_for_signed_in_staff_only(app, client, bundles):
    technicians_stick(app, bundles)
    for path in ("/staff/update/find", "/staff/update/install", "/staff/update/restart"):
        answer = client.post(path)
        assert answer.status_code == 303 and answer.headers["Location"].endswith("/staff/sign-in"), path


def test_a_kiosk_without_rauc_offers_no_system_update(app_config, tmp_path, bundles):
    """Installed from the .deb on a branch's own PC (no /etc/rauc/system.conf): apt updates it."""
    from kiosk.web import create_app

    app_config["rauc_conf"] = tmp_path / "absent" / "system.conf"
    app = create_app(app_config)
    try:
        add_staff(app.extensions["kiosk"].store, "김직원", PIN)
        client = app.test_client()
        client.post("/staff/sign-in", data={"name": "김직원", "pin": PIN})
        assert "staff-update" not in client.get("/staff").get_data(as_text=True)
        assert client.post("/staff/update/find").status_code == 404
    finally:
        app.extensions["kiosk"].close()


def test_the_console_offers_the_search_where_rauc_is_configured(staff):
    page = staff.get("/staff").get_data(as_text=True)
    assert 'id="staff-update-find"' in page and "update-bundles" not in page


def test_the_console_follows_an_install_to_its_end_and_restarts_with_a_stand_in_for_raucs_service(app, staff,
                                                                                                  bundles):
    """The real verdicts and the copy, then RAUC's service and logind replaced by a recorder: 설치, the
    progress the console polls, 다시 시작 (which ends the customers' sessions) and the audit rows."""
    kiosk = app.extensions["kiosk"]
    stand_in = kiosk.updates.updater = StandInForRaucsService(kiosk.settings.rauc_conf)
    drive = technicians_stick(app, bundles)
    bundle = f"cert-kiosk-lab_{NEWER}.raucb"

    started = staff.post("/staff/update/install", data={"drive": drive, "bundle": bundle})
    assert started.status_code == 200 and "설치를 시작했습니다" in started.get_data(as_text=True)
    assert staff.post("/staff/update/install", data={"drive": drive, "bundle": bundle}).status_code == 409, \
        "one install at a time"
    done = console_state_until(staff, "installed")
    assert 'id="staff-update-restart"' in done
    assert [path.name for path in stand_in.installed] == [bundle]
    assert stand_in.installed[0].parent == kiosk.settings.data_dir / "updates", "RAUC gets the copy, not the stick"
    assert "staff-update-find" not in staff.get("/staff").get_data(as_text=True), "no second install meanwhile"
    assert list((kiosk.settings.data_dir / "updates").iterdir()) == [], "the copy is removed once installed"

    assert staff.post("/staff/update/restart").status_code == 200
    assert stand_in.rebooted
    actions = [row["action"] for row in kiosk.audit.recent(10)]
    assert "update.install_started" in actions and "update.restart" in actions


def test_no_stick_is_touched_while_a_customer_is_at_the_screen(app, staff, bundles, caplog):
    """Looking for updates mounts and unmounts every stick: never under a customer's write."""
    technicians_stick(app, bundles)
    customer = app.test_client()
    customer.get("/")
    customer.post("/start")
    assert app.extensions["kiosk.sessions"].customer_count() == 1

    for path in ("/staff/update/find", "/staff/update/install"):
        answer = staff.post(path, data={"drive": "x", "bundle": "y"})
        assert answer.status_code == 409 and "고객이 이용 중입니다" in answer.get_data(as_text=True), path
    assert "update.refused_while_customers" in caplog.text
    assert "update.bundles_found" not in caplog.text

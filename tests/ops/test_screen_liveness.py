"""The screen reports in and the doctor notices when it stops: a hung browser (cage wedged, unit still
"active") fails the browser check. systemctl is faked on PATH — there is no systemd here to run the unit;
the appliance test (tests/system/) checks the same against the real unit and the real Chromium."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kiosk.health import doctor, screen
from kiosk.settings import Settings
from kiosk.wiring import build
from tests.ops.test_doctor import failed, kiosk, lines, provision


@pytest.fixture
def fake_systemctl(tmp_path):
    """A `systemctl` on PATH that says the browser unit has been active for `uptime` seconds."""
    folder = tmp_path / "fake-bin"
    folder.mkdir()

    def install(uptime: float) -> dict[str, str]:
        since = int((time.monotonic() - uptime) * 1e6)
        script = folder / "systemctl"
        script.write_text(f"#!/bin/sh\necho \"$@\" >> {folder}/calls\n"
                          f"printf 'ActiveState=active\\nActiveEnterTimestampMonotonic={since}\\n'\n")
        script.chmod(0o755)
        return {"PATH": f"{folder}:{os.environ['PATH']}"}
    return install


def test_the_page_carries_the_report_and_the_endpoint_records_it(client, data_dir):
    page = client.get("/").get_data(as_text=True)
    assert 'hx-post="/healthz/screen"' in page
    assert f"every {screen.SCREEN_REPORT_SECONDS}s" in page
    assert not (data_dir / screen.SCREEN_FILE).exists()
    assert client.post("/healthz/screen").status_code == 204
    assert screen.screen_silence(Settings(data_dir=data_dir)) < 5


def test_an_active_browser_whose_screen_never_reported_fails(data_dir, fake_systemctl):
    provision(data_dir)
    result = kiosk(data_dir, "doctor", **fake_systemctl(uptime=screen.SCREEN_STARTUP_SECONDS + 60))
    assert result.returncode == 1
    assert list(failed(result)) == ["browser"]
    assert "the screen has reported never" in failed(result)["browser"]
    assert f"systemctl restart {screen.BROWSER_UNIT}" in failed(result)["browser"]


def test_the_check_flips_with_the_screens_reports(data_dir, client, fake_systemctl):
    provision(data_dir)
    env = fake_systemctl(uptime=600)
    assert client.post("/healthz/screen").status_code == 204
    assert lines(kiosk(data_dir, "doctor", **env))["browser"].startswith("ok")
    long_ago = time.time() - screen.SCREEN_SILENT_SECONDS - 30
    os.utime(data_dir / screen.SCREEN_FILE, (long_ago, long_ago))
    result = kiosk(data_dir, "doctor", **env)
    assert result.returncode == 1 and "has reported not for" in failed(result)["browser"]


def test_a_browser_just_started_is_given_time_to_report(data_dir, fake_systemctl):
    provision(data_dir)
    assert "starting" in lines(kiosk(data_dir, "doctor", **fake_systemctl(uptime=5)))["browser"]


def test_without_the_unit_demo_mode_passes_and_production_fails(data_dir):
    """No systemd here: the unit is not active, which only production minds."""
    demo = doctor.check_browser(build(Settings(data_dir=Path(data_dir))))
    assert demo.ok and "not running (demo mode)" in demo.detail
    production = doctor.check_browser(build(Settings(data_dir=Path(data_dir), mode="production")))
    assert not production.ok and "is not active" in production.detail


def test_the_timer_restarts_a_browser_whose_screen_went_silent(data_dir, fake_systemctl, tmp_path):
    """What cert-kiosk-screen.timer runs: a silent screen restarts the unit, a reporting one does not."""
    provision(data_dir)
    env = fake_systemctl(uptime=screen.SCREEN_STARTUP_SECONDS + 60)
    calls = tmp_path / "fake-bin" / "calls"
    result = kiosk(data_dir, "doctor", "--restart-silent-browser", **env)
    assert result.returncode == 0 and "FAIL browser" in result.stdout
    assert f"restart --no-block {screen.BROWSER_UNIT}" in calls.read_text()
    assert "browser.restarted" in result.stderr
    calls.unlink()
    (data_dir / screen.SCREEN_FILE).touch()
    result = kiosk(data_dir, "doctor", "--restart-silent-browser", **env)
    assert result.stdout.startswith("ok") and "restart" not in calls.read_text()

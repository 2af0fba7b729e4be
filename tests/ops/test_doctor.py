"""`kiosk doctor` as a technician runs it (a subprocess, settings from the environment) against a healthy
kiosk and broken ones: one line per check, a fix under each failure, exit status 1 when anything failed.
/healthz serves the same checks as JSON."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kiosk.health import doctor
from kiosk.pki.embedded import ca as embedded
from kiosk.settings import Settings
from kiosk.web import create_app
from kiosk.wiring import build
from tests.conftest import free_port
from tests.ops.ca_files import remake_ca

REPO = Path(__file__).resolve().parents[2]
CHECK_NAMES = [
    "configuration", "database", "ca", "crl", "cmp", "smtp", "udev", "udisks2", "browser", "clock", "disk",
    "printer",
]


def kiosk(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "KIOSK_MODE": "demo", "KIOSK_DATA_DIR": str(data_dir), **env}
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=120)


def provision(data_dir: Path) -> None:
    """A kiosk as a technician's `kiosk init --demo` leaves it: nothing here writes a file of its own."""
    result = kiosk(data_dir, "init", "--demo")
    assert result.returncode == 0, result.stderr


def days_left(data_dir: Path) -> int:
    """What the issuing CA that `kiosk init` wrote says of itself, for comparing with the doctor's line."""
    from cryptography import x509

    path = data_dir / "ca" / embedded.ISSUING_CERTIFICATE
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return (cert.not_valid_after_utc - datetime.now(timezone.utc)).days


def lines(result: subprocess.CompletedProcess) -> dict[str, str]:
    """{check name: its line and fix} from the doctor's output."""
    found = {}
    for line in result.stdout.splitlines():
        if line.startswith(("ok", "FAIL")):
            name = line.split()[1]
            found[name] = line
        elif line.strip().startswith("fix:"):
            found[name] += "\n" + line
    return found


def failed(result) -> dict[str, str]:
    return {name: line for name, line in lines(result).items() if line.startswith("FAIL")}


def test_a_healthy_kiosk_passes_every_check(data_dir, smtp_server):
    provision(data_dir)
    result = kiosk(data_dir, "doctor", KIOSK_SMTP_URL=smtp_server.url)
    assert result.returncode == 0, result.stdout
    assert list(lines(result)) == CHECK_NAMES
    assert failed(result) == {}
    assert f"{days_left(data_dir)} days left" in lines(result)["ca"]
    assert f"127.0.0.1:{smtp_server.controller.port} answers" in lines(result)["smtp"]


def test_demo_without_smtp_uses_the_outbox(data_dir):
    provision(data_dir)
    result = kiosk(data_dir, "doctor")
    assert result.returncode == 0, result.stdout
    assert "demo outbox" in lines(result)["smtp"]


def test_init_demo_writes_what_the_doctor_reads(data_dir):
    """The regression of issue 14: the doctor looked for names the embedded CA never wrote."""
    provision(data_dir)
    result = kiosk(data_dir, "doctor")
    assert result.returncode == 0, result.stdout
    assert "ca" not in failed(result) and "crl" not in failed(result)


def test_a_missing_ca_fails_with_the_fix_kiosk_init(data_dir):
    provision(data_dir)
    (data_dir / "ca" / embedded.ISSUING_CERTIFICATE).unlink()
    (data_dir / "ca" / embedded.CRL_FILE).unlink()
    result = kiosk(data_dir, "doctor")
    assert result.returncode == 1
    assert set(failed(result)) == {"ca", "crl"}
    assert embedded.ISSUING_CERTIFICATE in failed(result)["ca"]
    assert "fix: run `kiosk init`" in failed(result)["ca"]


def test_smtp_down_fails_the_smtp_check_only(data_dir):
    provision(data_dir)
    result = kiosk(data_dir, "doctor", KIOSK_SMTP_URL=f"smtp://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert list(failed(result)) == ["smtp"]
    assert "unreachable" in failed(result)["smtp"] and "KIOSK_SMTP_URL" in failed(result)["smtp"]


@pytest.fixture
def read_only(data_dir):
    """The data directory mounted read-only: as unwritable for root as a wrongly owned one is for the
    kiosk's user (root ignores file modes, so chmod would prove nothing here)."""
    def make():
        subprocess.run(["mount", "--bind", str(data_dir), str(data_dir)], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(data_dir)], check=True)
    yield make
    subprocess.run(["umount", str(data_dir)], check=False)


def test_an_unwritable_database_fails_the_database_check(data_dir, read_only):
    provision(data_dir)
    read_only()
    result = kiosk(data_dir, "doctor")
    assert result.returncode == 1
    assert list(failed(result)) == ["database"]
    assert "not writable" in failed(result)["database"]


def test_a_stale_crl_fails(data_dir):
    provision(data_dir)
    remake_ca(data_dir, crl_signed=datetime.now(timezone.utc) - embedded.CRL_LIFETIME - timedelta(hours=2))
    assert list(failed(kiosk(data_dir, "doctor"))) == ["crl"]
    assert "stale" in failed(kiosk(data_dir, "doctor"))["crl"]


def test_a_ca_about_to_expire_fails_with_days_left(data_dir):
    provision(data_dir)
    now = datetime.now(timezone.utc)
    remake_ca(data_dir, created=now.replace(year=now.year - embedded.ISSUING_YEARS) + timedelta(days=10))
    assert 0 < days_left(data_dir) < doctor.CA_MIN_DAYS_LEFT
    assert f"{days_left(data_dir)} days left" in failed(kiosk(data_dir, "doctor"))["ca"]


def test_a_clock_before_the_ca_fails_the_clock_check(data_dir):
    provision(data_dir)
    remake_ca(data_dir, created=datetime.now(timezone.utc) + timedelta(days=2))
    result = failed(kiosk(data_dir, "doctor"))
    assert "before the CA's notBefore" in result["clock"]
    assert "timedatectl set-ntp true" in result["clock"]


def test_an_old_schema_fails_the_database_check(data_dir):
    provision(data_dir)
    with sqlite3.connect(data_dir / "kiosk.sqlite3") as conn:
        conn.execute("PRAGMA user_version = 0")
    assert "the code needs" in failed(kiosk(data_dir, "doctor"))["database"]


def test_invalid_configuration_is_the_only_answer(data_dir):
    result = kiosk(data_dir, "doctor", KIOSK_DRIVES="floppy")
    assert result.returncode == 1
    assert list(lines(result)) == ["configuration"]
    assert "KIOSK_DRIVES" in result.stdout and "kiosk.env" in result.stdout


def test_an_smtp_url_the_kiosk_could_not_start_with_is_the_only_answer(data_dir):
    result = kiosk(data_dir, "doctor", KIOSK_SMTP_URL="http://mail.example")
    assert result.returncode == 1
    assert list(lines(result)) == ["configuration"]
    assert "KIOSK_SMTP_URL must be one of" in result.stdout and "kiosk.env" in result.stdout


def test_bank_ca_files_the_kiosk_could_not_start_with_are_the_only_answer(data_dir):
    """The doctor builds the kiosk as the server would: KIOSK_CA=cmp naming unreadable files stops both."""
    result = kiosk(data_dir, "doctor", KIOSK_CA="cmp", KIOSK_CMP_URL="http://127.0.0.1:9/cmp",
                   KIOSK_CMP_CA_CERTS=str(data_dir / "missing.pem"),
                   KIOSK_CMP_KEK_CERT=str(data_dir / "kek.pem"))
    assert result.returncode == 1
    assert list(lines(result)) == ["configuration"]
    assert "KIOSK_CMP_CA_CERTS" in result.stdout and "docs/cmp.md" in result.stdout


PRODUCTION = {
    "KIOSK_MODE": "production", "KIOSK_SECRET_KEY": "s" * 40, "KIOSK_CUSTOMER_HASH_KEY": "h" * 40,
    "KIOSK_CA_PASSPHRASE": "a real passphrase", "KIOSK_DIRECTORY_URL": "http://127.0.0.1:9/directory",
    "KIOSK_ACCOUNTS_URL": "http://127.0.0.1:9/accounts", "KIOSK_ID_CHECK_URL": "http://127.0.0.1:9/idcards",
    "KIOSK_DRIVES": "udisks2",
}


def test_production_needs_udisks2_on_the_system_bus(data_dir, smtp_server):
    provision(data_dir)
    result = kiosk(data_dir, "doctor", **PRODUCTION, KIOSK_SMTP_URL=smtp_server.url,
                   DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={data_dir}/no-bus")
    assert "org.freedesktop.UDisks2 not reachable" in failed(result)["udisks2"]
    assert "apt-get install udisks2" in failed(result)["udisks2"]
    assert "udisks2" not in failed(kiosk(data_dir, "doctor"))  # demo: "not used"


def test_json_output_and_healthz_report_the_same_checks(data_dir, app_config):
    provision(data_dir)
    body = create_app(app_config).test_client().get("/healthz")
    assert body.status_code == 200
    assert [c["name"] for c in body.get_json()["checks"]] == CHECK_NAMES
    cli = json.loads(kiosk(data_dir, "doctor", "--json").stdout)
    assert cli["ok"] is True and [c["name"] for c in cli["checks"]] == CHECK_NAMES


def test_healthz_is_503_with_the_failing_check_and_its_fix(client, data_dir):
    (data_dir / "ca" / embedded.ISSUING_CERTIFICATE).unlink()
    response = client.get("/healthz")
    assert response.status_code == 503
    ca = next(c for c in response.get_json()["checks"] if c["name"] == "ca")
    assert ca["ok"] is False and ca["fix"].startswith("run `kiosk init`")


def test_free_disk_below_the_minimum_fails(data_dir, monkeypatch):
    monkeypatch.setattr(doctor, "MIN_FREE_BYTES", 1 << 60)
    check = doctor.check_disk(build(Settings(data_dir=data_dir)))
    assert not check.ok and "free disk space" in check.fix


def test_a_demo_on_real_drives_checks_udisks2(data_dir):
    """The lab appliance runs demo mode with KIOSK_DRIVES=udisks2: udisks2 is used, so it is checked."""
    provision(data_dir)
    result = kiosk(data_dir, "doctor", KIOSK_DRIVES="udisks2",
                   DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={data_dir}/no-bus")
    assert "org.freedesktop.UDisks2 not reachable" in failed(result)["udisks2"]
    assert "not used" not in result.stdout.split("udisks2", 1)[1].splitlines()[0]

"""Logs off the kiosk (docs/fleet.md, "Logs"): a real kiosk's log lines reach a central journal and
`journalctl` there finds one kiosk's events by its machine id and host name and the event's name.

What is real: `kiosk serve` writing its lines; systemd-journal-upload reading the kiosk's journal
files (`--directory`, as it reads /var/log/journal on a kiosk) and sending them over HTTP; a
systemd-journal-remote listening on loopback and writing the central journal; journalctl reading it.
What stands in: journald itself (this machine has no booted systemd), so the kiosk's lines are turned
into journal entries as journald would (tests/fleet/journal_export.py) and written to the kiosk's journal
file by systemd-journal-remote reading the export format; and plain HTTP on loopback where the fleet
uses HTTPS with client certificates (ops/journal-upload/)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import free_port, require_command
from tests.fleet.journal_export import export_entries
from tests.ops.kiosk_process import KioskProcess

JOURNAL_REMOTE = "/usr/lib/systemd/systemd-journal-remote"
JOURNAL_UPLOAD = "/usr/lib/systemd/systemd-journal-upload"
KIOSK_A = ("a1b2c3d4e5f60718293a4b5c6d7e8f90", "kiosk-seoul-jongno-01")
KIOSK_B = ("0f1e2d3c4b5a69788796a5b4c3d2e1f0", "kiosk-busan-haeundae-02")
BOOT_ID = "5d1f0c2b3a4e5f60718293a4b5c6d7e8"


def require_journal_remote() -> None:
    require_command("journalctl", "systemd")
    for program in (JOURNAL_REMOTE, JOURNAL_UPLOAD):
        if not subprocess.run(["test", "-x", program]).returncode == 0:
            pytest.fail(f"{program} is missing: `make test` installs the Debian package systemd-journal-remote")


@pytest.fixture(scope="module")
def kiosk_log(tmp_path_factory) -> str:
    """A real kiosk's stdout from start to SIGTERM, with a refused form (http.csrf_failed) in between."""
    data_dir = tmp_path_factory.mktemp("journal-kiosk") / "var"
    data_dir.mkdir()
    kiosk = KioskProcess(data_dir)
    subprocess.run([sys.executable, "-m", "kiosk", "init", "--demo"], env=kiosk.env, check=True,
                   capture_output=True, timeout=120)  # as `make run` does: the CA's process starts beside it
    kiosk.start()
    try:
        kiosk.wait_until_serving()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(urllib.request.Request(kiosk.url + "/language", data=b"lang=en"), timeout=10)
    finally:
        assert kiosk.stop() == 0
    return kiosk.log()


@pytest.fixture
def central(tmp_path):
    """A systemd-journal-remote on loopback, as the central log host runs it (SplitMode=host)."""
    require_journal_remote()
    port, directory = free_port(), tmp_path / "central"
    directory.mkdir()
    receiver = subprocess.Popen([JOURNAL_REMOTE, f"--listen-http=127.0.0.1:{port}", f"--output={directory}/",
                                 "--split-mode=host"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert receiver.poll() is None and time.monotonic() < deadline, "journal-remote did not listen"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", directory
    finally:
        receiver.terminate()
        receiver.wait(timeout=20)


def kiosk_journal(tmp_path, log: str, machine_id: str, hostname: str):
    """The kiosk's own journal directory, holding its log as journald would have stored it."""
    directory = tmp_path / machine_id
    directory.mkdir()
    entries = export_entries(log, machine_id, hostname, BOOT_ID, start_usec=int(time.time() * 1e6))
    subprocess.run([JOURNAL_REMOTE, f"--output={directory}/system.journal", "-"], input=entries,
                   check=True, capture_output=True, timeout=60)
    return directory


def upload(url: str, journal_dir, state) -> None:
    """systemd-journal-upload as the kiosk runs it, reading journal files, once through (no --follow)."""
    subprocess.run([JOURNAL_UPLOAD, f"--url={url}", f"--directory={journal_dir}", "--follow=no",
                    f"--save-state={state}"], check=True, capture_output=True, timeout=60)


def central_entries(directory, *matches: str, grep: str | None = None, at_least: int = 1) -> list[dict]:
    """journalctl on the central host; polls until `at_least` entries match, as journal-remote writes
    what it receives asynchronously."""
    command = ["journalctl", f"--directory={directory}", "-o", "json", *matches]
    if grep:
        command += ["-g", grep]
    deadline, entries = time.monotonic() + 30, []
    while time.monotonic() < deadline:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        entries = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        if len(entries) >= at_least:
            return entries
        time.sleep(0.2)
    return entries


def logged_messages(log: str) -> list[str]:
    """The kiosk's lines (its CA's process included) without their journald priority prefix (`<6>`)."""
    return [re.sub(r"^<[0-7]>", "", line) for line in log.splitlines()]


def line_count(log: str) -> int:
    return export_entries(log, *KIOSK_A, BOOT_ID, 0).count(b"\n\n")


def test_real_upload_and_journal_remote_find_one_kiosk_by_machine_id_and_event_journald_stood_in(kiosk_log, central, tmp_path):
    url, directory = central
    for machine_id, hostname in (KIOSK_A, KIOSK_B):
        upload(url, kiosk_journal(tmp_path, kiosk_log, machine_id, hostname), tmp_path / f"{hostname}.state")

    refused = central_entries(directory, f"_MACHINE_ID={KIOSK_A[0]}", grep=r"^http\.csrf_failed")
    assert refused, "journalctl on the central host found no http.csrf_failed of kiosk A"
    assert {e["_MACHINE_ID"] for e in refused} == {KIOSK_A[0]}
    assert {e["_HOSTNAME"] for e in refused} == {KIOSK_A[1]}
    assert {e["PRIORITY"] for e in refused} == {"4"}  # warning, as docs/operations.md lists it

    lines = line_count(kiosk_log)
    by_host = central_entries(directory, f"_HOSTNAME={KIOSK_B[1]}", "_SYSTEMD_UNIT=cert-kiosk.service",
                              at_least=lines)
    messages = [e["MESSAGE"] for e in by_host]
    assert messages == logged_messages(kiosk_log)
    assert any(message.startswith("server.ready") for message in messages)
    assert "server.stopped" in messages
    assert {e["_MACHINE_ID"] for e in by_host} == {KIOSK_B[0]}
    assert len(by_host) == lines == len(central_entries(directory, f"_MACHINE_ID={KIOSK_A[0]}", at_least=lines))


def test_real_upload_resumes_after_its_saved_cursor_losing_nothing_journald_stood_in(kiosk_log, central, tmp_path):
    """Lines logged while the central host was unreachable are sent by the next run (--save-state).
    Found here: systemd 252's journal-upload starts at its saved cursor, not after it, so the last entry
    of the previous run arrives a second time (at-least-once; docs/fleet.md says so)."""
    url, directory = central
    journal = kiosk_journal(tmp_path, kiosk_log, *KIOSK_A)
    state = tmp_path / "upload.state"
    upload(url, journal, state)
    lines = line_count(kiosk_log)
    assert len(central_entries(directory, f"_MACHINE_ID={KIOSK_A[0]}", at_least=lines)) == lines
    later = export_entries(kiosk_log, *KIOSK_A, BOOT_ID, start_usec=int(time.time() * 1e6) + 10**9)
    subprocess.run([JOURNAL_REMOTE, f"--output={journal}/later.journal", "-"], input=later, check=True,
                   capture_output=True, timeout=60)
    upload(url, journal, state)
    entries = central_entries(directory, f"_MACHINE_ID={KIOSK_A[0]}", at_least=2 * lines + 1)
    messages = [entry["MESSAGE"] for entry in entries]
    assert len(messages) == 2 * lines + 1
    first, *_, last = logged_messages(kiosk_log)
    assert messages[lines - 1] == messages[lines] == last  # the one sent twice
    assert messages[lines + 1] == first

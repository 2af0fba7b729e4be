"""What journald makes of a kiosk's stdout, for a test machine that has no booted journald: each
`<N>event key=value` line becomes one entry in the Journal Export Format, with PRIORITY=N and the
fields journald adds itself (machine id, host name, boot id, unit, timestamps). This is the only stand-in
in tests/fleet/test_journal_upload.py; upload, reception and journalctl are the real programs."""

from __future__ import annotations

import re

LINE = re.compile(r"<([0-7])>(.*)")
# when the stand-in kiosk "booted": monotonic time grows with real time, as a journal reader that merges
# several files of one boot expects (it orders them by monotonic time)
BOOTED_AT_USEC = 1_700_000_000_000_000


def export_entries(log: str, machine_id: str, hostname: str, boot_id: str, start_usec: int) -> bytes:
    """The kiosk's log as journald would store it, in the export format (one text field per line, an
    empty line after each entry). Traceback lines are entries of their own, as journald stores them."""
    entries = []
    for n, line in enumerate(log.splitlines()):
        match = LINE.fullmatch(line)
        if not match:
            continue
        fields = {
            "__REALTIME_TIMESTAMP": str(start_usec + n * 1000),
            "__MONOTONIC_TIMESTAMP": str(max(start_usec - BOOTED_AT_USEC, 0) + n * 1000),
            "_BOOT_ID": boot_id,
            "_MACHINE_ID": machine_id,
            "_HOSTNAME": hostname,
            "_TRANSPORT": "stdout",
            "_SYSTEMD_UNIT": "cert-kiosk.service",
            "SYSLOG_IDENTIFIER": "kiosk",
            "PRIORITY": match[1],
            "MESSAGE": match[2],
        }
        entries.append("".join(f"{name}={value}\n" for name, value in fields.items()))
    return "\n".join(entries).encode() + b"\n"

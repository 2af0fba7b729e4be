"""The udisks2 adapter (production): mount, unmount and power off through `org.freedesktop.UDisks2` on the
system bus, so the kiosk process needs no privileges — a polkit rule authorises its user.

Thin on purpose, and NOT TESTED HERE against a real udisks2 (the test machines have no system bus): every
call is one `busctl` command built by `udisks2_call`, whose argv the tests check. `busctl` (systemd) was
chosen over dbus-next/Gio because the kiosk already runs under systemd (no new Python dependency, no
PyGObject in production), and `busctl --json=short` gives machine-readable replies instead of GVariant text.

udisks2 actions called (for the polkit rule in systemd/):
- Filesystem.Mount  -> org.freedesktop.udisks2.filesystem-mount(-other-seat; the kiosk has no seat)
- Filesystem.Unmount of its own mounts -> no authorisation needed (filesystem-unmount-others otherwise)
- Drive.PowerOff    -> org.freedesktop.udisks2.power-off-drive(-other-seat)
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from hardware.drives import Drive
from hardware.errors import DriveError, DriveRemoved, MountFailed, ReadOnlyDrive
from hardware.log import event
from hardware.mount import Volume, mount_options

BUS_NAME = "org.freedesktop.UDisks2"
NO_PROMPT = ["auth.no_user_interaction", "b", "true"]


def block_object_path(device: str) -> str:
    """/dev/sda1 -> /org/freedesktop/UDisks2/block_devices/sda1 (udisks2 escapes non-alphanumerics as _xx)."""
    name = Path(device).name
    escaped = re.sub(r"[^A-Za-z0-9]", lambda m: f"_{ord(m.group()):02x}", name)
    return f"/org/freedesktop/UDisks2/block_devices/{escaped}"


def udisks2_call(object_path: str, interface: str, method: str, options: list[str]) -> list[str]:
    """The busctl argv for one method call taking a single a{sv} of `options` (triples name, type, value)."""
    count = len(options) // 3
    return ["busctl", "--system", "--json=short", "call", BUS_NAME, object_path,
            f"{BUS_NAME}.{interface}", method, "a{sv}", str(count), *options]


def udisks2_property(object_path: str, interface: str, name: str) -> list[str]:
    return ["busctl", "--system", "--json=short", "get-property", BUS_NAME, object_path,
            f"{BUS_NAME}.{interface}", name]


def _error(stderr: str, drive: Drive) -> DriveError:
    if "NotAuthorized" in stderr or "not authorized" in stderr.lower():
        return MountFailed(f"udisks2 refused (polkit rule missing?): {stderr}", device=drive.device)
    if "Unknown object" in stderr or "No such interface" in stderr or "UnknownObject" in stderr:
        return DriveRemoved(f"udisks2 no longer knows {drive.device}: {stderr}", device=drive.device)
    if "read-only" in stderr.lower():
        return ReadOnlyDrive(stderr, device=drive.device)
    return MountFailed(f"udisks2: {stderr}", device=drive.device)


def _busctl(argv: list[str], drive: Drive) -> dict:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise _error(result.stderr.strip(), drive)
    return json.loads(result.stdout) if result.stdout.strip() else {}


class Udisks2Mounter:
    """udisks2 mounts under /media/<kiosk user>/<label>; we remember where, to write and unmount."""

    def mount(self, drive: Drive, read_only: bool = False) -> Volume:
        path = block_object_path(drive.device)
        options = ["options", "s", mount_options(drive.fs_type, read_only), *NO_PROMPT]
        argv = udisks2_call(path, "Filesystem", "Mount", options)
        try:
            reply = _busctl(argv, drive)
            root = Path(reply["data"][0])
        except MountFailed as exc:
            if "AlreadyMounted" not in str(exc):
                raise
            root = self._mount_point(path, drive)
        event("drive.mounted", device=drive.device, id=drive.id, fs_type=drive.fs_type, backend="udisks2")
        return Volume(root, read_only=drive.read_only or read_only)

    def _mount_point(self, path: str, drive: Drive) -> Path:
        reply = _busctl(udisks2_property(path, "Filesystem", "MountPoints"), drive)
        points = [bytes(p).rstrip(b"\0").decode() for p in reply.get("data", [])]
        if not points:
            raise DriveRemoved(f"{drive.device} has no mount point", device=drive.device)
        return Path(points[0])

    def unmount(self, drive: Drive) -> None:
        argv = udisks2_call(block_object_path(drive.device), "Filesystem", "Unmount", NO_PROMPT)
        try:
            _busctl(argv, drive)
        except MountFailed as exc:
            if "NotMounted" not in str(exc):
                raise

    def power_off(self, drive: Drive) -> None:
        reply = _busctl(udisks2_property(block_object_path(drive.device), "Block", "Drive"), drive)
        drive_path = reply.get("data") or "/"
        if drive_path == "/":
            raise DriveRemoved(f"udisks2 has no drive object for {drive.device}", device=drive.device)
        _busctl(udisks2_call(drive_path, "Drive", "PowerOff", NO_PROMPT), drive)

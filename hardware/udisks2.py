"""The udisks2 adapter (production): mount, check, repair, unmount and power off through
`org.freedesktop.UDisks2` on the system bus, so the kiosk process needs no privileges — a polkit rule
authorises its user (systemd/50-cert-kiosk.rules).

D-Bus through `jeepney` (pure Python, maintained; no PyGObject, no GLib main loop): one blocking connection
per call, so any thread may call. It replaced parsing `busctl` output (issue 28): errors now arrive as the
daemon's D-Bus error names, and each is mapped to what a person is told. The names below were judged on
the booted appliance against the real udisks2 2.9 (tests/system/test_appliance.py).

udisks2 actions called (for the polkit rule):
- Filesystem.Mount  -> org.freedesktop.udisks2.filesystem-mount(-other-seat; the kiosk has no seat)
- Filesystem.Unmount of its own mounts -> no authorisation needed (filesystem-unmount-others otherwise)
- Block.OpenForBackup -> org.freedesktop.udisks2.open-device, told apart from OpenForRestore (writing) by
  polkit.message: the FAT check reads the metadata itself (hardware/fatcheck.py: fsck.fat calls every
  Hangul label damage)
- Filesystem.Check (exFAT) / Filesystem.Repair -> org.freedesktop.udisks2.modify-device(-other-seat), told
  apart from a format by the message udisks2 sends along (polkit.message)
- Drive.PowerOff    -> org.freedesktop.udisks2.power-off-drive(-other-seat)
"""

from __future__ import annotations

import logging
import os
import re
from contextlib import closing
from pathlib import Path

from hardware import fatcheck
from hardware.drives import Drive
from hardware.errors import DriveError, DriveRemoved, MountFailed, NeedsRepair, ReadOnlyDrive
from hardware.log import event
from hardware.mount import Volume, mount_options

BUS_NAME = "org.freedesktop.UDisks2"
ROOT = "/org/freedesktop/UDisks2"
# a system service has no one to answer a password prompt: fail at once instead of waiting for an agent
NO_PROMPT = {"auth.no_user_interaction": ("b", True)}
TIMEOUT = 60.0
# Check and Repair run fsck: a big stick takes a while
FSCK_TIMEOUT = 300.0
# what udisks2 2.9 says when fsck.fat -a wrote its corrections (exit 1)
CORRECTED = re.compile(r"Process reported exit code 1\b.*Writing changes", re.S)


def block_object_path(device: str) -> str:
    """/dev/sda1 -> /org/freedesktop/UDisks2/block_devices/sda1 (udisks2 escapes non-alphanumerics as _xx)."""
    name = Path(device).name
    escaped = re.sub(r"[^A-Za-z0-9]", lambda m: f"_{ord(m.group()):02x}", name)
    return f"{ROOT}/block_devices/{escaped}"


def drive_error(name: str, message: str, drive: Drive) -> DriveError:
    """The daemon's D-Bus error, as the typed error a person is told about."""
    short = name.rsplit(".", 1)[-1]
    detail = f"udisks2 {short}: {message}"
    if short in ("NotAuthorized", "NotAuthorizedCanObtain", "NotAuthorizedDismissed"):
        return MountFailed(f"{detail} (is the polkit rule systemd/50-cert-kiosk.rules installed?)",
                           device=drive.device)
    if name in ("org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownMethod",
                "org.freedesktop.DBus.Error.UnknownInterface") or short == "NotFound":
        # the block object (or its Filesystem interface) went with the stick
        return DriveRemoved(detail, device=drive.device)
    if re.search(r"Error creating (directory|mount point)", message):
        # the mount point under /media is the kiosk's own disk (read-only or full), not the customer's stick
        return MountFailed(detail, device=drive.device)
    if "read-only" in message.lower() or "write-protected" in message.lower():
        return ReadOnlyDrive(detail, device=drive.device)
    if short == "Failed" and re.search(r"\b(No such device|No medium found|does not exist)\b", message):
        return DriveRemoved(detail, device=drive.device)
    if short == "Failed" and "Error mounting" in message and re.search(r"(fsck|corrupt|bad superblock)", message):
        return NeedsRepair(detail, device=drive.device)
    return MountFailed(detail, device=drive.device)


class Udisks2:
    """Method calls and properties on the system bus, with the daemon's errors typed for `drive`."""

    def __init__(self, bus: str = "SYSTEM"):
        self.bus = bus

    def call(self, drive: Drive, path: str, interface: str, method: str, body: tuple = (NO_PROMPT,),
             timeout: float = TIMEOUT) -> tuple:
        """One method taking a single a{sv} of options (every udisks2 method the kiosk calls but one)."""
        from jeepney import new_method_call

        return self._send(drive, new_method_call(self._address(path, interface), method, "a{sv}", body), timeout)

    def open_for_reading(self, drive: Drive) -> int:
        """Block.OpenForBackup: a read-only file descriptor on the stick's block device (which the kiosk's
        user cannot open itself), opened O_EXCL so that it fails while mounted. The caller closes it."""
        from jeepney import new_method_call

        message = new_method_call(self._address(block_object_path(drive.device), "Block"), "OpenForBackup",
                                  "a{sv}", (NO_PROMPT,))
        (descriptor,) = self._send(drive, message, TIMEOUT, enable_fds=True)
        return descriptor.to_raw_fd()

    def get(self, drive: Drive, path: str, interface: str, name: str):
        from jeepney import Properties

        _signature, value = self._send(drive, Properties(self._address(path, interface)).get(name), TIMEOUT)[0]
        return value

    @staticmethod
    def _address(path: str, interface: str):
        from jeepney import DBusAddress

        return DBusAddress(path, bus_name=BUS_NAME, interface=f"{BUS_NAME}.{interface}")

    def _send(self, drive: Drive, message, timeout: float, enable_fds: bool = False) -> tuple:
        from jeepney import DBusErrorResponse
        from jeepney.io.blocking import open_dbus_connection
        from jeepney.wrappers import unwrap_msg

        try:
            with closing(open_dbus_connection(bus=self.bus, enable_fds=enable_fds)) as connection:
                # an error reply comes back as a message: unwrap_msg raises it as DBusErrorResponse
                return unwrap_msg(connection.send_and_get_reply(message, timeout=timeout))
        except DBusErrorResponse as error:
            text = error.data[0] if error.data and isinstance(error.data[0], str) else ""
            raise drive_error(error.name, text, drive) from error
        except (OSError, TimeoutError) as error:
            raise MountFailed(f"udisks2 on the system bus: {error}", device=drive.device) from error


def _mount_points(value) -> list[Path]:
    """Filesystem.MountPoints: aay, NUL-terminated byte strings."""
    return [Path(bytes(point).rstrip(b"\0").decode("utf-8", "surrogateescape")) for point in value]


class Udisks2Mounter:
    """udisks2 mounts under /media/<kiosk user>/<label>; we remember where, to write and unmount."""

    def __init__(self, bus: Udisks2 | None = None):
        self.bus = bus or Udisks2()

    def mount(self, drive: Drive, read_only: bool = False) -> Volume:
        path = block_object_path(drive.device)
        options = {"options": ("s", mount_options(drive.fs_type, read_only)), **NO_PROMPT}
        try:
            (root,) = self.bus.call(drive, path, "Filesystem", "Mount", body=(options,))
            root = Path(root)
        except MountFailed as exc:
            if "AlreadyMounted" not in str(exc):
                raise
            root = self._mount_point(path, drive)
        event("drive.mounted", device=drive.device, id=drive.id, fs_type=drive.fs_type, backend="udisks2")
        return Volume(root, read_only=drive.read_only or read_only)

    def _mount_point(self, path: str, drive: Drive) -> Path:
        points = _mount_points(self.bus.get(drive, path, "Filesystem", "MountPoints"))
        if not points:
            raise DriveRemoved(f"{drive.device} has no mount point", device=drive.device)
        return points[0]

    def unmount(self, drive: Drive) -> None:
        try:
            self.bus.call(drive, block_object_path(drive.device), "Filesystem", "Unmount")
        except MountFailed as exc:
            if "NotMounted" not in str(exc):
                raise

    def check(self, drive: Drive) -> bool:
        """The stick unmounted: True when it is safe to write to. FAT is read here (hardware/fatcheck.py);
        exFAT through Filesystem.Check (fsck.exfat -n, which judges labels fairly)."""
        if drive.fs_type != "vfat":
            (consistent,) = self.bus.call(drive, block_object_path(drive.device), "Filesystem", "Check",
                                          timeout=FSCK_TIMEOUT)
            return bool(consistent)
        descriptor = self.bus.open_for_reading(drive)
        try:
            found = fatcheck.problems(descriptor)
        except OSError as exc:
            raise DriveRemoved(f"{drive.device}: reading the filesystem failed: {exc}", device=drive.device) from exc
        finally:
            os.close(descriptor)
        if found:
            event("drive.fat_problems", logging.WARNING, device=drive.device, id=drive.id, count=len(found),
                  first=found[0])
        return not found

    def repair(self, drive: Drive) -> None:
        """Filesystem.Repair (fsck -a / -y), unmounted first; raises when udisks2 reports it failed."""
        self.unmount(drive)
        try:
            (repaired,) = self.bus.call(drive, block_object_path(drive.device), "Filesystem", "Repair",
                                        timeout=FSCK_TIMEOUT)
        except MountFailed as exc:
            # fsck.fat -a exits 1 when it found errors and corrected them (dosfstools' manual): libblockdev
            # reports that as a failure, though the changes were written. The check that follows judges.
            if not (drive.fs_type == "vfat" and CORRECTED.search(str(exc))):
                raise
            event("drive.repair_corrected", device=drive.device, id=drive.id)
            return
        if not repaired:
            raise MountFailed(f"udisks2 could not repair {drive.device}", device=drive.device)

    def power_off(self, drive: Drive) -> None:
        drive_path = self.bus.get(drive, block_object_path(drive.device), "Block", "Drive")
        if drive_path in ("/", ""):
            raise DriveRemoved(f"udisks2 has no drive object for {drive.device}", device=drive.device)
        self.bus.call(drive, drive_path, "Drive", "PowerOff")

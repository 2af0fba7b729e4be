"""Mounting customers' drives: the `Mounter` interface, the mounted `Volume`, and the direct `mount(8)`
backend for installations that run the kiosk as root. udisks2 (production) lives in `udisks2.py`, the demo
directories in `demo.py`; the three read alike (mount, unmount, power_off), as in udiskie's Mounter.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyudev

from hardware.drives import Drive
from hardware.errors import DriveRemoved, MountFailed, UnsupportedFilesystem
from hardware.log import event

SAFE_OPTIONS = "nosuid,nodev,noexec"
# UTF-8 file names (Hangul DN folders) and prompt write-out, per filesystem (mount(8) spelling)
NAME_OPTIONS = {"vfat": "utf8=1,shortname=mixed,flush", "exfat": "iocharset=utf8"}


@dataclass(frozen=True)
class Volume:
    """A mounted drive: where its root is, and (demo drives) a free-space figure of its own."""

    root: Path
    read_only: bool = False
    free_bytes: Callable[[], int] | None = None


class Mounter(Protocol):
    def mount(self, drive: Drive, read_only: bool = False) -> Volume: ...

    def unmount(self, drive: Drive) -> None: ...

    def power_off(self, drive: Drive) -> None: ...


def mount_options(fs_type: str, read_only: bool = False) -> str:
    if fs_type not in NAME_OPTIONS:
        raise UnsupportedFilesystem(f"will not mount {fs_type or 'no filesystem'}")
    return f"{SAFE_OPTIONS},{NAME_OPTIONS[fs_type]}" + (",ro" if read_only else "")


def mounted_read_only(root: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> bool:
    """Whether the filesystem mounted at `root` is read-only now: the kernel mounts a FAT or exFAT whose
    structures it found broken read-only, or remounts it so at the first error (errors=remount-ro)."""
    for line in mountinfo.read_text().splitlines():
        before, _, after = line.partition(" - ")
        fields = before.split()
        if len(fields) >= 6 and Path(fields[4].encode().decode("unicode_escape")) == root:
            super_options = after.split()[2].split(",") if len(after.split()) >= 3 else []
            return "ro" in fields[5].split(",") or "ro" in super_options
    return False


def mount_point_of(device: str, mountinfo: Path = Path("/proc/self/mountinfo")) -> Path | None:
    """Where `device` is mounted now, from mountinfo's source field (after the " - " separator)."""
    for line in mountinfo.read_text().splitlines():
        before, _, after = line.partition(" - ")
        fields = after.split()
        if len(fields) >= 2 and fields[1] == device:
            return Path(before.split()[4].encode().decode("unicode_escape"))
    return None


def power_off_usb_port(sys_path: str) -> None:
    """What udisks2's PowerOff does after flushing: ask the kernel to remove the USB device, which stops
    it and cuts the port's power where the hub allows. Missing sysfs means the stick is already gone."""
    try:
        device = pyudev.Devices.from_sys_path(pyudev.Context(), sys_path)
    except pyudev.DeviceNotFoundError as exc:
        raise DriveRemoved(f"{sys_path} is gone") from exc
    usb = device.find_parent("usb", "usb_device")
    if usb is None:
        raise DriveRemoved(f"{sys_path} has no USB device above it")
    with open(os.path.join(usb.sys_path, "remove"), "w") as remove:
        remove.write("1")


class DirectMounter:
    """`mount(8)`/`umount(8)` as root, under `base` (one folder per drive id). For installations without
    udisks2; the kiosk then needs CAP_SYS_ADMIN, which production avoids."""

    def __init__(self, base: Path, mountinfo: Path = Path("/proc/self/mountinfo")):
        self.base = base
        self.mountinfo = mountinfo

    def _target(self, drive: Drive) -> Path:
        return self.base / drive.id

    def mount(self, drive: Drive, read_only: bool = False) -> Volume:
        options = mount_options(drive.fs_type, read_only)
        current = mount_point_of(drive.device, self.mountinfo)
        target = self._target(drive)
        if current is not None and current != target:
            raise MountFailed(f"{drive.device} is already mounted at {current}", device=drive.device)
        if current is None:
            target.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._run(["mount", "-t", drive.fs_type, "-o", options, drive.device, str(target)], drive)
            event("drive.mounted", device=drive.device, id=drive.id, fs_type=drive.fs_type, backend="mount")
        return Volume(target, read_only=drive.read_only or read_only)

    def unmount(self, drive: Drive) -> None:
        target = self._target(drive)
        if mount_point_of(drive.device, self.mountinfo) is not None:
            self._run(["umount", str(target)], drive)
        if target.is_dir():
            target.rmdir()

    def power_off(self, drive: Drive) -> None:
        power_off_usb_port(drive.sys_path)

    @staticmethod
    def _run(argv: list[str], drive: Drive) -> None:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        if result.returncode != 0:
            raise MountFailed(f"{' '.join(argv[:1])}: {result.stderr.strip()}", device=drive.device)

"""The `Drive` model, built from udev properties and sysfs attributes, and its eligibility with a reason.

`judge` decides what a medium's own properties allow: only a USB mass-storage medium carrying a filesystem
we can write (vfat, exfat), not write-protected, and not part of a disk that holds a mounted system path.
Three reasons are found elsewhere: `no_media` and `partition_table` by the udev reader (hardware.udev),
`needs_repair` by the manager once a filesystem check found the stick dirty (hardware.manager,
`with_reason`). Every reason code is listed here, with the words a technician reads.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path

WRITABLE_FILESYSTEMS = ("vfat", "exfat")

# reason code -> what a technician reads (`kiosk drives`, error details); the customer's screen and the
# staff console say it in their own language, by code (templates/drives/_reasons.html)
REASON_DESCRIPTION = {
    None: "",
    "unsupported_fs": "filesystem the kiosk cannot write (only FAT and exFAT)",
    "no_filesystem": "no filesystem (not formatted)",
    "read_only": "write-protected",
    "not_usb": "not a USB mass-storage device",
    "system_disk": "a disk of the kiosk's own system",
    "no_media": "no medium (an empty card reader)",
    "partition_table": "partitioned disk (each partition is listed on its own)",
    "needs_repair": "filesystem dirty or inconsistent (not properly removed): repair before writing",
}

# reasons for which a device is considered (the CLI prints it) but never shown on the customer's screen:
# an empty card reader, the container of listed partitions, the kiosk's own disks.
HIDDEN_REASONS = frozenset({"no_media", "partition_table", "not_usb", "system_disk"})

# mount points whose disk is never a candidate, whatever its bus (a PC booted from USB)
SYSTEM_MOUNT_POINTS = ("/", "/boot", "/boot/efi", "/boot/firmware", "/usr", "/var", "/home", "/etc", "/opt")


@dataclass(frozen=True)
class Drive:
    """One block device as the kiosk sees it: a partition, or a whole disk for a superfloppy."""

    id: str
    device: str
    label: str
    fs_type: str
    size_bytes: int
    vendor: str
    model: str
    serial: str
    read_only: bool
    removable: bool
    bus: str
    eligible: bool
    reason: str | None
    sys_path: str = ""

    @property
    def reason_description(self) -> str:
        return REASON_DESCRIPTION.get(self.reason, self.reason or "")

    @property
    def readable(self) -> bool:
        """The kiosk can mount it to read certificates: what it can write to, write-protected sticks, and
        sticks whose filesystem needs a repair (read-only, nothing on them changes)."""
        return self.eligible or self.reason in ("read_only", "needs_repair")

    @property
    def listed(self) -> bool:
        """Shown on the customer's screen (eligible or greyed with a reason)."""
        return self.reason not in HIDDEN_REASONS

    @property
    def display_name(self) -> str:
        product = " ".join(part for part in (self.vendor, self.model) if part)
        return self.label or product or Path(self.device).name

    def as_json(self) -> dict:
        return {
            "id": self.id, "device": self.device, "label": self.label, "fs_type": self.fs_type,
            "size_bytes": self.size_bytes, "vendor": self.vendor, "model": self.model,
            "serial": self.serial, "read_only": self.read_only, "removable": self.removable,
            "bus": self.bus, "eligible": self.eligible, "reason": self.reason,
            "reason_description": self.reason_description,
        }


def judge(*, bus: str, fs_usage: str, fs_type: str, read_only: bool, system: bool) -> str | None:
    """The reason a medium cannot take a bundle, most fundamental first; None when it can."""
    if bus != "usb":
        return "not_usb"
    if system:
        return "system_disk"
    if fs_usage not in ("filesystem", "crypto") or not fs_type:
        return "no_filesystem"
    if fs_type not in WRITABLE_FILESYSTEMS:
        return "unsupported_fs"
    if read_only:
        return "read_only"
    return None


def with_reason(drive: Drive, reason: str | None) -> Drive:
    return replace(drive, reason=reason, eligible=reason is None)


def drive_id(*parts: str) -> str:
    """A stable opaque id, safe in HTML attributes and URLs (hex), from what identifies the medium."""
    return "d" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


_UDEV_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")


def decode_udev(encoded: str) -> str:
    r"""Undo udev's `\xNN` escaping (ID_FS_LABEL_ENC, ID_VENDOR_ENC). blkid hands on a FAT label's raw bytes:
    UTF-8 from Linux and macOS, but the OEM code page from Windows — CP949 on a Korean PC (우체국 arrives as
    `\xbf\xecü\xb1\xb9`). So: UTF-8 when the bytes are valid UTF-8, else CP949, else UTF-8 with U+FFFD."""
    raw = _UDEV_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), encoded.encode("utf-8", "surrogateescape"))
    for codec in ("utf-8", "cp949"):
        try:
            return raw.decode(codec).strip()
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace").strip()

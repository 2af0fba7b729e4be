"""Drives from udev (pyudev): enumeration, classification, and which disks hold the system.

Works the same against the real udev database and under umockdev (tests): only `pyudev.Context`,
device properties, sysfs attributes and the parent chain are used. The system-disk check reads
mountinfo and swaps files whose paths are injectable, so tests can supply their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pyudev

from hardware.drives import SYSTEM_MOUNT_POINTS, Drive, decode_udev, drive_id, judge

MOUNTINFO = Path("/proc/self/mountinfo")
SWAPS = Path("/proc/swaps")


def _unescape_mount_field(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \040 etc.
    return field.encode().decode("unicode_escape") if "\\" in field else field


def system_device_numbers(mountinfo: Path = MOUNTINFO, extra_paths: Iterable[str] = ()) -> set[str]:
    """The "major:minor" of every device mounted on a system path (/, /boot, ...), and of the mount that
    holds each of `extra_paths` (the kiosk's data directory). Reading fails loudly: without it no disk
    can be trusted."""
    mounts = []
    for line in mountinfo.read_text().splitlines():
        fields = line.split()
        if len(fields) > 4:
            mounts.append((_unescape_mount_field(fields[4]), fields[2]))
    numbers = {number for point, number in mounts if point in SYSTEM_MOUNT_POINTS}
    for path in extra_paths:
        path = os.path.normpath(path)
        holders = [(point, number) for point, number in mounts
                   if path == point or path.startswith(point.rstrip("/") + "/")]
        if holders:
            numbers.add(max(holders, key=lambda held: len(held[0]))[1])
    return numbers


def swap_devices(swaps: Path = SWAPS) -> set[str]:
    """Device nodes used as swap (a swap partition on a stick makes its disk a system disk)."""
    if not swaps.exists():
        return set()
    return {line.split()[0] for line in swaps.read_text().splitlines()[1:] if line.strip()}


def _number(device: pyudev.Device) -> str:
    return f"{os.major(device.device_number)}:{os.minor(device.device_number)}"


def _disk_of(device: pyudev.Device) -> pyudev.Device:
    return device.find_parent("block", "disk") if device.device_type == "partition" else device


def _expand_holders(context: pyudev.Context, numbers: set[str]) -> set[str]:
    """Follow device-mapper/md stacks down to the partitions under them (root on LVM or LUKS)."""
    found = set(numbers)
    pending = list(numbers)
    while pending:
        major, minor = (int(n) for n in pending.pop().split(":"))
        try:
            device = pyudev.Devices.from_device_number(context, "block", os.makedev(major, minor))
        except pyudev.DeviceNotFoundError:
            continue
        slaves = Path(device.sys_path) / "slaves"
        for slave in slaves.iterdir() if slaves.is_dir() else ():
            number = (slave / "dev").read_text().strip() if (slave / "dev").exists() else ""
            if number and number not in found:
                found.add(number)
                pending.append(number)
    return found


def _text(device: pyudev.Device, name: str) -> str:
    encoded = device.properties.get(f"{name}_ENC")
    if encoded:
        return decode_udev(encoded)
    return device.properties.get(name, "").replace("_", " ").strip()


def _attribute(device: pyudev.Device, name: str) -> str:
    try:
        value = device.attributes.get(name)
    except (OSError, UnicodeDecodeError):
        return ""
    return value.decode(errors="replace").strip() if value is not None else ""


def _is_usb(device: pyudev.Device) -> bool:
    """USB mass storage: udev says so, or a usb_device is in the parent chain (removable=1 is unreliable)."""
    if device.properties.get("ID_BUS") == "usb":
        return True
    return device.find_parent("usb", "usb_device") is not None


def _size_bytes(device: pyudev.Device) -> int:
    sectors = _attribute(device, "size")  # always 512-byte sectors
    return int(sectors) * 512 if sectors.isdigit() else 0


def build_drive(device: pyudev.Device, *, system_disks: set[str], hidden_reason: str | None = None) -> Drive:
    """The Drive for one partition or whole disk; `hidden_reason` marks containers and empty readers."""
    disk = _disk_of(device) or device
    props = device.properties
    read_only = _attribute(device, "ro") == "1" or _attribute(disk, "ro") == "1"
    bus = "usb" if _is_usb(device) else (props.get("ID_BUS") or "other")
    reason = hidden_reason if hidden_reason in ("no_media",) else judge(
        bus=bus,
        fs_usage=props.get("ID_FS_USAGE", ""),
        fs_type=props.get("ID_FS_TYPE", ""),
        read_only=read_only,
        system=disk.sys_path in system_disks,
    )
    if hidden_reason == "partition_table" and reason not in ("not_usb", "system_disk"):
        reason = hidden_reason
    serial = props.get("ID_SERIAL_SHORT") or props.get("ID_SERIAL", "")
    return Drive(
        id=drive_id(device.sys_path, serial, props.get("ID_FS_UUID", "")),
        device=device.device_node or props.get("DEVNAME", ""),
        label=_text(device, "ID_FS_LABEL"),
        fs_type=props.get("ID_FS_TYPE", ""),
        size_bytes=_size_bytes(device),
        vendor=_text(disk, "ID_VENDOR"),
        model=_text(disk, "ID_MODEL"),
        serial=serial,
        read_only=read_only,
        removable=_attribute(disk, "removable") == "1",
        bus=bus,
        eligible=reason is None,
        reason=reason,
        sys_path=device.sys_path,
    )


def scan(
    context: pyudev.Context,
    *,
    mountinfo: Path = MOUNTINFO,
    swaps: Path = SWAPS,
    extra_system_paths: Iterable[str] = (),
) -> list[Drive]:
    """Every block disk and partition the kiosk considered, classified; see `Drive.listed` for the screen."""
    system_numbers = _expand_holders(context, system_device_numbers(mountinfo, extra_system_paths))
    swap_nodes = swap_devices(swaps)
    devices = list(context.list_devices(subsystem="block"))
    system_disks = {
        _disk_of(d).sys_path for d in devices
        if _number(d) in system_numbers or d.device_node in swap_nodes
    }
    partitions_of: dict[str, list[pyudev.Device]] = {}
    for device in devices:
        if device.device_type == "partition":
            partitions_of.setdefault(_disk_of(device).sys_path, []).append(device)
    drives = []
    for device in sorted(devices, key=lambda d: d.sys_path):
        hidden = None
        if device.device_type == "disk":
            if _size_bytes(device) == 0:
                hidden = "no_media"
            elif partitions_of.get(device.sys_path):
                hidden = "partition_table"
        drives.append(build_drive(device, system_disks=system_disks, hidden_reason=hidden))
    return drives

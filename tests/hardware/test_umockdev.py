"""Real udev code paths on umockdev testbeds: `kiosk drives --json` classifies each kind of device, and
hot-plug events reach the watcher's subscribers, once per stick (how fast: bench/hotplug)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import FIXTURES

from tests.tools import require_command

DEVICES = ["superfloppy", "partitioned-stick", "card-reader-empty", "write-protected-stick", "ntfs-stick",
           "exfat-stick", "sata-disk", "usb-system-disk"]

# device -> (eligible, reason) with / on the USB SSD sdg (a PC booted from USB)
EXPECTED_USB_ROOT = {
    "/dev/sda": (True, None),                 # superfloppy: FAT32 on the whole disk
    "/dev/sdb": (False, "partition_table"),   # its partition is the candidate
    "/dev/sdb1": (True, None),
    "/dev/sdc": (False, "no_media"),          # card reader, no card
    "/dev/sdd": (False, "partition_table"),
    "/dev/sdd1": (False, "read_only"),        # lock switch on
    "/dev/sde": (False, "partition_table"),
    "/dev/sde1": (False, "unsupported_fs"),   # NTFS
    "/dev/sdf": (False, "not_usb"),           # SATA
    "/dev/sdf1": (False, "not_usb"),
    "/dev/sdg": (False, "system_disk"),       # holds /
    "/dev/sdg1": (False, "system_disk"),      # its FAT ESP too: the whole disk is off limits
    "/dev/sdg2": (False, "system_disk"),
    "/dev/sdh": (False, "partition_table"),
    "/dev/sdh1": (True, None),                # exFAT
}


def kiosk_drives(tmp_path: Path, mountinfo: str, *args: str) -> list[dict]:
    require_command("umockdev-run", "umockdev")
    devices = [arg for name in DEVICES for arg in ("-d", str(FIXTURES / f"{name}.umockdev"))]
    env = {**os.environ, "KIOSK_DRIVES": "mount", "KIOSK_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        ["umockdev-run", *devices, "--", sys.executable, "-m", "kiosk", "drives", "--json",
         "--mountinfo", str(FIXTURES / mountinfo), *args],
        capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_kiosk_drives_json_classifies_every_kind_of_device(tmp_path):
    drives = {d["device"]: d for d in kiosk_drives(tmp_path, "mountinfo-usb-root")}
    assert {device: (d["eligible"], d["reason"]) for device, d in drives.items()} == EXPECTED_USB_ROOT
    superfloppy = drives["/dev/sda"]
    assert superfloppy["label"] == "내 USB" and superfloppy["fs_type"] == "vfat"
    assert (superfloppy["vendor"], superfloppy["model"]) == ("BUFFALO", "USB Flash Disk")
    assert superfloppy["serial"] == "0AB15160A3036AC7" and superfloppy["size_bytes"] == 15728640 * 512
    assert drives["/dev/sdd1"]["read_only"] is True
    assert set(superfloppy) >= {"device", "label", "fs_type", "size_bytes", "vendor", "model", "serial",
                                "read_only", "eligible", "reason"}


def test_a_usb_disk_is_eligible_once_the_system_is_elsewhere(tmp_path):
    drives = {d["device"]: d for d in kiosk_drives(tmp_path, "mountinfo-sd-root")}
    assert (drives["/dev/sdg1"]["eligible"], drives["/dev/sdg1"]["reason"]) == (True, None)
    assert drives["/dev/sdg2"]["reason"] == "unsupported_fs"  # ext4, no longer the system


def test_the_data_directory_disk_is_a_system_disk(tmp_path):
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text("22 1 179:2 / / rw - ext4 /dev/mmcblk0p2 rw\n"
                         f"30 22 8:17 / {tmp_path.parent} rw,relatime - vfat /dev/sdb1 rw\n")
    drives = {d["device"]: d for d in kiosk_drives(tmp_path, str(mountinfo))}
    assert drives["/dev/sdb1"]["reason"] == "system_disk"


def test_hot_plugged_sticks_reach_the_watcher_once_each(tmp_path):
    """Each stick gives exactly one update, even the first, plugged in right after the watcher started
    (how fast is bench/hotplug's question, not a test's)."""
    require_command("umockdev-wrapper", "umockdev")
    result = subprocess.run(
        ["umockdev-wrapper", sys.executable, str(Path(__file__).with_name("umockdev_hotplug.py")),
         str(FIXTURES), str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["initial"] == []
    added, protected, removed = report["steps"]
    for step in report["steps"]:
        assert step["updates"] == 1, step  # one stick, one update (debounced)
    assert added["drives"] == [{"device": "/dev/sdb1", "reason": None}]
    assert protected["drives"] == [{"device": "/dev/sdb1", "reason": None},
                                   {"device": "/dev/sdd1", "reason": "read_only"}]
    assert removed["drives"] == [{"device": "/dev/sdd1", "reason": "read_only"}]


def test_a_stick_plugged_in_while_a_slow_observer_thread_starts_is_not_missed():
    """The listener receives from the moment it returns, not from when its thread first runs."""
    require_command("umockdev-wrapper", "umockdev")
    result = subprocess.run(
        ["umockdev-wrapper", sys.executable, str(Path(__file__).with_name("umockdev_slow_observer.py")),
         str(FIXTURES)],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"poked": True}


def test_kiosk_drives_watch_starts_watching(tmp_path):
    """`--watch` runs until stopped (hot-plug itself is checked through the watcher above)."""
    require_command("umockdev-run", "umockdev")
    env = {**os.environ, "KIOSK_DRIVES": "mount", "KIOSK_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        ["umockdev-run", "-d", str(FIXTURES / "superfloppy.umockdev"), "--", sys.executable, "-m", "kiosk",
         "drives", "--json", "--watch", "--mountinfo", str(FIXTURES / "mountinfo-sd-root")],
        stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert json.loads(process.stdout.readline()) == {"event": "watching"}
    finally:
        process.terminate()
        process.wait(timeout=10)

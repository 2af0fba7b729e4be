"""kiosk.build: which build a kiosk runs, as /metrics' kiosk_build_info and the staff console show it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from kiosk.build import booted_slot, revision

REPO = Path(__file__).resolve().parents[2]


def sysfs_with_partition(tmp_path: Path, root: Path, uevent: str) -> Path:
    """/sys/dev/block as the kernel lays it out, for the device holding `root`."""
    device = os.stat(root).st_dev
    entry = tmp_path / "sys" / f"{os.major(device)}:{os.minor(device)}"
    entry.mkdir(parents=True)
    (entry / "uevent").write_text(uevent)
    return tmp_path / "sys"


def test_the_slot_is_the_gpt_name_of_the_partition_holding_the_root_filesystem(tmp_path):
    sys_block = sysfs_with_partition(tmp_path, tmp_path, "MAJOR=253\nMINOR=3\nDEVNAME=vda3\nDEVTYPE=partition\n"
                                                         "PARTN=3\nPARTNAME=rootfs-B\n")
    assert booted_slot(tmp_path, sys_block) == "B"


def test_a_machine_that_is_not_the_ab_appliance_has_no_slot(tmp_path):
    sys_block = sysfs_with_partition(tmp_path, tmp_path, "DEVNAME=sda1\nDEVTYPE=partition\nPARTNAME=Linux\n")
    assert booted_slot(tmp_path, sys_block) == "none"
    assert booted_slot(tmp_path, tmp_path / "no-sysfs") == "none"


def test_an_installed_kiosk_reads_the_revision_its_installer_wrote(tmp_path):
    (tmp_path / "REVISION").write_text("0123456789ab\n")
    assert revision.__wrapped__(tmp_path) == "0123456789ab"


def test_a_checkout_without_revision_asks_git():
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert revision.__wrapped__(REPO) == head


def test_neither_a_revision_nor_git_says_unknown(tmp_path):
    assert revision.__wrapped__(tmp_path) == "unknown"

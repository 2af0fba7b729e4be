"""kiosk.build: which build a kiosk runs, as /metrics' kiosk_build_info and the staff console show it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kiosk.build import booted_slot, revision

REPO = Path(__file__).resolve().parents[2]


def test_the_slot_is_the_one_grub_put_on_the_kernels_command_line(tmp_path):
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("BOOT_IMAGE=/vmlinuz root=PARTUUID=b0b0 rw quiet rauc.slot=B\n")
    assert booted_slot(cmdline) == "B"


def test_a_machine_that_is_not_the_ab_appliance_has_no_slot(tmp_path):
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n")
    assert booted_slot(cmdline) == "none"
    assert booted_slot(tmp_path / "absent") == "none"


def test_an_installed_kiosk_reads_the_revision_its_installer_wrote(tmp_path):
    (tmp_path / "REVISION").write_text("0123456789ab\n")
    assert revision.__wrapped__(tmp_path) == "0123456789ab"


def test_a_checkout_without_revision_asks_git():
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert revision.__wrapped__(REPO) == head


def test_neither_a_revision_nor_git_says_unknown(tmp_path):
    assert revision.__wrapped__(tmp_path) == "unknown"

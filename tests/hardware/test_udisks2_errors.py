"""What the customer is told when udisks2 refuses a mount, from the daemon's own error texts (udisks2 2.9,
as seen on the booted appliance). Mocked at the edge: the errors are udisks2's replies, given as text, not
provoked from a real daemon (a read-only /media cannot be made under the test's udisks2)."""

from __future__ import annotations

import pytest

from hardware.drives import Drive
from hardware.errors import MountFailed, ReadOnlyDrive
from hardware.udisks2 import drive_error

STICK = Drive(id="usb-1", device="/dev/sdb1", label="MYSTICK", fs_type="vfat", size_bytes=64 << 20,
              vendor="Generic", model="Flash", serial="1", read_only=False, removable=True, bus="usb",
              eligible=True, reason=None)


@pytest.mark.parametrize("message", [
    "Error creating directory /media/cert-kiosk: Read-only file system",
    "Error creating mount point `/media/cert-kiosk/MYSTICK': Read-only file system",
])
def test_udisks2_reply_text_a_mount_point_the_kiosk_could_not_make_is_a_technicians_matter_not_a_protected_stick(
        message):
    error = drive_error("org.freedesktop.UDisks2.Error.Failed", message, STICK)
    assert type(error) is MountFailed and error.code == "mount_failed"


def test_udisks2_reply_text_a_write_protected_stick_is_still_told_as_one():
    error = drive_error("org.freedesktop.UDisks2.Error.Failed",
                        "Error mounting /dev/sdb1 at /media/cert-kiosk/MYSTICK: /dev/sdb1 is write-protected "
                        "but explicit read-write mode requested", STICK)
    assert type(error) is ReadOnlyDrive and error.code == "read_only"

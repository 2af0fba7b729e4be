"""A stick pulled while it is written, as a real kernel reports it (issue 28): not the FUSE daemon's
ENOTCONN the other tests see, but EIO from the write or a failed mount, and the drive leaving udev's list
a moment later. The customer must read "저장하는 중에 USB가 빠졌습니다…" (the certificate is kept, the same
stick may go back in), not "USB에 저장하지 못했습니다". The booted appliance pulls a real one
(tests/system/); here the mounter is the edge that fails, named so."""

from __future__ import annotations

import threading

import pytest

from hardware import DriveManager
from hardware.errors import MountFailed, WriteFailed
from tests.hardware.conftest import bundle, image_drive


class FailingMounterMock:
    """Stands where udisks2 stands: its mount fails the way a vanished device makes it fail."""

    def __init__(self, error):
        self.error = error

    def mount(self, drive, read_only=False):
        raise self.error

    def unmount(self, drive):
        pass

    def power_off(self, drive):
        pass


def manager_over(fat, error, *, leaves_after: float | None):
    drive = image_drive(fat)
    present = threading.Event()
    present.set()
    if leaves_after is not None:
        threading.Timer(leaves_after, present.clear).start()
    manager = DriveManager(lambda: [drive] if present.is_set() else [], lambda poke: (lambda: None),
                           FailingMounterMock(error))
    manager.start()
    return manager, drive


@pytest.mark.parametrize("error", [WriteFailed("Input/output error (EIO)"), MountFailed("No such device")])
def test_an_io_error_then_the_drive_leaving_is_a_pulled_stick_mock_mounter(fat, error):
    manager, drive = manager_over(fat, error, leaves_after=0.5)
    with pytest.raises(Exception) as raised:
        manager.deliver(drive.id, bundle(), "NPKI/yessign/USER/cn=x")
    assert raised.value.code == "drive_removed", raised.value
    assert raised.value.__cause__ is error


def test_an_io_error_on_a_stick_still_there_stays_a_write_failure_mock_mounter(fat):
    error = WriteFailed("Input/output error (EIO)")
    manager, drive = manager_over(fat, error, leaves_after=None)
    with pytest.raises(Exception) as raised:
        manager.deliver(drive.id, bundle(), "NPKI/yessign/USER/cn=x")
    assert raised.value is error and raised.value.code == "write_failed"


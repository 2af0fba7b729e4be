"""Demo drives through the real DriveManager: what the staff console and the journey's tests rely on."""

from __future__ import annotations

import threading

import pytest
from conftest import DN_FOLDER, bundle, complete_bundles

from hardware import DriveFull, DriveManager, DriveRemoved, ReadOnlyDrive, UnsupportedFilesystem
from hardware.demo import insert_demo_drive, remove_demo_drive


@pytest.fixture
def manager(data_dir):
    manager = DriveManager.from_backend("demo", data_dir)
    manager.start()
    yield manager
    manager.stop()


def wait_for(manager, predicate, timeout=3.0):
    arrived = threading.Event()
    unsubscribe = manager.subscribe(lambda drives: predicate(drives) and arrived.set())
    try:
        if not predicate(manager.drives()):
            assert arrived.wait(timeout), f"drives never matched; now {manager.drives()}"
    finally:
        unsubscribe()
    return manager.drives()


def test_an_inserted_demo_drive_is_listed_and_a_removed_one_disappears(manager, data_dir):
    insert_demo_drive(data_dir, "stick", label="내 USB")
    (drive,) = wait_for(manager, lambda drives: len(drives) == 1)
    assert drive.eligible and drive.label == "내 USB" and drive.id.isalnum()
    remove_demo_drive(data_dir, "stick")
    assert wait_for(manager, lambda drives: drives == []) == []


def test_deliver_to_a_demo_drive_writes_real_files_and_eject_hides_it(manager, data_dir):
    insert_demo_drive(data_dir, "stick")
    (drive,) = wait_for(manager, lambda drives: len(drives) == 1)
    result = manager.deliver(drive.id, bundle(), DN_FOLDER, keep_backup=False)
    root = data_dir / "demo-drives/stick/root"
    assert complete_bundles(root) == [root / DN_FOLDER]
    assert result.drive_serial == "DEMO-STICK"
    manager.eject(drive.id)
    assert manager.drives() == []
    with pytest.raises(DriveRemoved):
        manager.deliver(drive.id, bundle(), DN_FOLDER, keep_backup=False)


@pytest.mark.parametrize(
    ("options", "error", "reason_description"),
    [
        ({"read_only": True}, ReadOnlyDrive, "write-protected"),
        ({"fs_type": "ntfs"}, UnsupportedFilesystem, "filesystem the kiosk cannot write (only FAT and exFAT)"),
        ({"size_bytes": 4096}, DriveFull, ""),
    ],
)
def test_an_unusable_demo_drive_ends_in_its_typed_error(manager, data_dir, options, error, reason_description):
    insert_demo_drive(data_dir, "stick", **options)
    (drive,) = wait_for(manager, lambda drives: len(drives) == 1)
    assert drive.reason_description == reason_description
    with pytest.raises(error) as raised:
        manager.deliver(drive.id, bundle(), DN_FOLDER, keep_backup=False)
    assert raised.value.code == error.code
    assert complete_bundles(data_dir / "demo-drives/stick/root") == []


def test_kiosk_init_demo_creates_two_demo_drives_idempotently(data_dir):
    import os
    import subprocess
    import sys

    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir), "KIOSK_MODE": "demo", "KIOSK_DRIVES": "demo"}
    for _ in range(2):
        subprocess.run([sys.executable, "-m", "kiosk", "init", "--demo"], env=env, check=True,
                       capture_output=True)
    drives = DriveManager.from_backend("demo", data_dir)
    drives.refresh()
    assert sorted((d.label, d.eligible) for d in drives.drives()) == [("LOCKED", False), ("우체국 USB", True)]


def test_the_watcher_reports_whether_it_is_alive_for_the_systemd_watchdog(tmp_path):
    from hardware import DriveManager

    manager = DriveManager.from_backend("demo", tmp_path)
    assert not manager.is_alive()
    manager.start()
    assert manager.is_alive()
    manager.stop()
    assert not manager.is_alive()

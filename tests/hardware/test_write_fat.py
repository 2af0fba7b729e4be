"""Delivering a bundle to a real FAT filesystem (mkfs.vfat image mounted through fusefat), and every way
it can go wrong: each ends in the right typed error and a drive with no complete-looking partial bundle."""

from __future__ import annotations

import os
import threading
import time

import pytest
from conftest import DN_FOLDER, bundle, complete_bundles, image_manager, make_fat

from hardware import DriveFull, DriveRemoved, ReadOnlyDrive
from hardware.write import write_bundle


def test_deliver_writes_verifies_and_ejects_a_bundle_that_survives_remount(fat):
    manager, drive, mounter = image_manager(fat)
    result = manager.deliver(drive.id, bundle(), DN_FOLDER, keep_backup=False)
    assert result.bundle_path_on_drive == DN_FOLDER
    assert result.bytes_written == 2800
    assert result.drive_serial == "IMG-1"

    manager.eject(drive.id)
    assert not os.path.ismount(fat.mountpoint)
    assert mounter.powered_off == [drive.id]
    assert fat.fsck_clean()

    root = fat.mount(read_only=True)
    folder = root / DN_FOLDER
    assert (folder / "signCert.der").read_bytes() == b"C" * 1500
    assert sorted(os.listdir(folder)) == ["signCert.der", "signPri.key"]  # no partial files left


def test_reissue_keeps_the_previous_bundle_as_bak_and_a_new_issue_replaces_it(fat):
    manager, drive, _ = image_manager(fat)
    manager.deliver(drive.id, bundle(cert=b"old"), DN_FOLDER, keep_backup=False)
    manager.deliver(drive.id, bundle(cert=b"new"), DN_FOLDER, keep_backup=True)
    root = fat.mountpoint
    assert (root / DN_FOLDER / "signCert.der").read_bytes() == b"new"
    assert (root / f"{DN_FOLDER}.bak" / "signCert.der").read_bytes() == b"old"

    manager.deliver(drive.id, bundle(cert=b"newest"), DN_FOLDER, keep_backup=False)
    assert (root / DN_FOLDER / "signCert.der").read_bytes() == b"newest"
    assert (root / f"{DN_FOLDER}.bak" / "signCert.der").read_bytes() == b"old"
    assert sorted(os.listdir(root / "NPKI/yessign/USER")) == sorted([DN_FOLDER.split("/")[-1],
                                                                     DN_FOLDER.split("/")[-1] + ".bak"])


def test_other_folders_on_the_drive_are_never_touched(fat):
    root = fat.mount()
    other = root / "NPKI/yessign/USER/cn=someone-else,ou=KMB,ou=personal4IB,o=yessign,c=kr"
    other.mkdir(parents=True)
    (other / "signCert.der").write_bytes(b"theirs")
    manager, drive, _ = image_manager(fat)
    manager.deliver(drive.id, bundle(), DN_FOLDER, keep_backup=True)
    assert (other / "signCert.der").read_bytes() == b"theirs"


def test_a_full_drive_is_refused_before_anything_is_written(tmp_path):
    image = make_fat(tmp_path, size_mib=1)
    root = image.mount()
    (root / "photos.bin").write_bytes(os.urandom(900 * 1024))
    manager, drive, _ = image_manager(image)
    try:
        with pytest.raises(DriveFull):
            manager.deliver(drive.id, bundle(cert=os.urandom(200 * 1024)), DN_FOLDER, keep_backup=False)
        assert not (root / "NPKI").exists()
    finally:
        image.unmount()


def test_running_out_of_space_mid_write_leaves_no_bundle(tmp_path):
    image = make_fat(tmp_path, size_mib=1)
    root = image.mount()
    (root / "photos.bin").write_bytes(os.urandom(900 * 1024))
    try:
        with pytest.raises(DriveFull):  # the free-space check is told a lie, so ENOSPC comes from FAT
            write_bundle(root, bundle(cert=os.urandom(200 * 1024)), DN_FOLDER, free_bytes=lambda: 1 << 30)
        assert complete_bundles(root) == []
        assert not (root / DN_FOLDER).exists()
        assert (root / "photos.bin").stat().st_size == 900 * 1024
    finally:
        image.unmount()
    assert image.fsck_clean()


def test_a_read_only_mount_is_a_read_only_drive(fat):
    manager, drive, _ = image_manager(fat, read_only=True)
    with pytest.raises(ReadOnlyDrive):
        manager.deliver(drive.id, bundle(), DN_FOLDER, keep_backup=False)
    assert complete_bundles(fat.mountpoint) == []


def test_a_drive_pulled_mid_write_is_drive_removed_and_holds_no_complete_bundle(fat):
    manager, drive, _ = image_manager(fat)
    root = fat.mountpoint
    outcome = {}

    def deliver():
        try:
            big = bundle(cert=os.urandom(3 * 1024 * 1024), key=os.urandom(2 * 1024 * 1024))
            manager.deliver(drive.id, big, DN_FOLDER, keep_backup=False)
            outcome["result"] = "delivered"
        except DriveRemoved as exc:
            outcome["result"] = exc

    writer = threading.Thread(target=deliver)
    writer.start()
    deadline = time.monotonic() + 10
    while not any(name.endswith(".kiosk-partial") for name in _listdir(root / DN_FOLDER)):
        assert time.monotonic() < deadline, "the write never started"
        time.sleep(0.005)
    fat.pull()
    writer.join(timeout=30)
    assert isinstance(outcome.get("result"), DriveRemoved), outcome
    fat.unmount()

    remounted = fat.mount(read_only=True)
    assert complete_bundles(remounted) == []
    leftovers = _listdir(remounted / DN_FOLDER)
    assert all(name.startswith(".") and name.endswith(".kiosk-partial") for name in leftovers), leftovers


def _listdir(path) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []

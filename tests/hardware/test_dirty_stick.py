"""A stick whose FAT is dirty or inconsistent, as a power cut or a pull mid-write leaves it (issue 28): real
FAT16 images made so with dosfstools and mtools (fusefat reports no free space on FAT32; the booted appliance
tries a FAT32 stick on the kernel's vfat), checked by the kiosk's own reading of the FAT (hardware/fatcheck.py,
what Udisks2Mounter.check runs on a descriptor from udisks2) and repaired by the real fsck.fat through
tests/hardware/fsck.py (what udisks2's Filesystem.Repair runs on the appliance, tests/system/). The kiosk says
so, refuses to write until the stick is repaired, then writes onto it. fsck.fat -n is the referee: the
kiosk's check agrees with it on every damage, and differs only on a Hangul label, which fsck.fat 4.2 calls
invalid."""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import time

import pytest

from hardware import DriveManager, NeedsRepair, fatcheck
from hardware.errors import MountFailed
from tests.hardware import fsck
from tests.hardware.conftest import FatImage, FuseFatMounter, bundle, image_drive
from tests.tools import require_command

FOLDER = "NPKI/yessign/USER/cn=x"


def fat32_with_npki(tmp_path, name="stick") -> FatImage:
    image = tmp_path / f"{name}.img"
    with open(image, "wb") as file:
        file.truncate(64 * 1024 * 1024)
    subprocess.run([require_command("mkfs.vfat", "dosfstools"), "-F", "16", "-n", "DIRTY", str(image)], check=True,
                   capture_output=True)
    env = {"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"}
    for folder in ("::/NPKI", "::/NPKI/yessign", "::/PHOTOS"):
        subprocess.run([require_command("mmd", "mtools"), "-i", str(image), folder], check=True, env=env)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8" + b"p" * 5000)
    subprocess.run([require_command("mcopy", "mtools"), "-i", str(image), str(photo), "::/PHOTOS/"], check=True, env=env)
    return FatImage(image, tmp_path / f"{name}-mnt")


def set_dirty_bit(image, offset: int = 0x25) -> None:
    """What Linux leaves on a FAT mounted and never cleanly unmounted: bit 0 of byte 0x25 (FAT16; 0x41 on
    FAT32)."""
    with open(image, "r+b") as file:
        file.seek(offset)
        flags = file.read(1)[0]
        file.seek(offset)
        file.write(bytes([flags | 1]))


def free_the_npki_cluster(image) -> None:
    """What the appliance's power cut left: /NPKI pointing at a free cluster (its FAT entries zeroed)."""
    with open(image, "r+b") as file:
        boot = file.read(512)
        sector, _per_cluster, reserved, fats, root_entries = struct.unpack_from("<HBHBH", boot, 0x0B)
        fat_size = struct.unpack_from("<H", boot, 0x16)[0]
        file.seek((reserved + fats * fat_size) * sector)
        root = file.read(root_entries * 32)
        for offset in range(0, len(root), 32):
            if root[offset:offset + 11] == b"NPKI       ":
                cluster = struct.unpack_from("<H", root, offset + 0x1A)[0]
                break
        else:
            raise AssertionError("no NPKI entry")
        for copy in range(fats):
            file.seek((reserved + copy * fat_size) * sector + cluster * 2)
            file.write(b"\0\0")


def kiosk_finds(image) -> list[str]:
    """What the kiosk's check finds on the image (read as udisks2 hands it the stick: a read-only fd)."""
    descriptor = os.open(image, os.O_RDONLY)
    try:
        return fatcheck.problems(descriptor)
    finally:
        os.close(descriptor)


class CheckingMounter(FuseFatMounter):
    """The FUSE mounter of the other hardware tests, with the kiosk's FAT check and the real fsck.fat as
    repair: what Udisks2Mounter runs on the appliance (tests/system/)."""

    def __init__(self, image: FatImage):
        super().__init__(image)
        self.checks = 0

    def check(self, drive) -> bool:
        self.checks += 1
        return not kiosk_finds(self.image.image)

    def repair(self, drive) -> None:
        self.unmount(drive)
        fsck.repair(str(self.image.image), "vfat")


def manager_over(image: FatImage) -> tuple[DriveManager, object, CheckingMounter]:
    drive = image_drive(image)
    mounter = CheckingMounter(image)
    manager = DriveManager(lambda: [drive], lambda poke: (lambda: None), mounter)
    manager.start()
    return manager, drive, mounter


def listed_reason(manager, drive_id, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        (listed,) = [d for d in manager.drives() if d.id == drive_id]
        if listed.reason is not None or time.monotonic() > deadline:
            return listed
        time.sleep(0.05)


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage", [set_dirty_bit, free_the_npki_cluster], ids=["dirty_bit", "inconsistent"])
def test_a_damaged_stick_is_listed_as_needing_repair_and_not_written(tmp_path, damage):
    image = fat32_with_npki(tmp_path)
    damage(image.image)
    assert not fsck.check(str(image.image), "vfat") and kiosk_finds(image.image)
    manager, drive, mounter = manager_over(image)
    try:
        listed = listed_reason(manager, drive.id)
        assert listed.reason == "needs_repair" and not listed.eligible and listed.readable, listed
        before = digest(image.image)
        with pytest.raises(NeedsRepair):
            manager.deliver(drive.id, bundle(folder=FOLDER), FOLDER)
        assert digest(image.image) == before, "something was written onto the damaged filesystem"
    finally:
        manager.stop()
        image.unmount()


def test_a_repaired_stick_takes_the_certificate_and_keeps_the_customers_files(tmp_path):
    image = fat32_with_npki(tmp_path)
    set_dirty_bit(image.image)
    free_the_npki_cluster(image.image)
    manager, drive, mounter = manager_over(image)
    try:
        assert listed_reason(manager, drive.id).reason == "needs_repair"
        assert manager.repair(drive.id) is True
        (listed,) = [d for d in manager.drives() if d.id == drive.id]
        assert listed.eligible and listed.reason is None
        result = manager.deliver(drive.id, bundle(folder=FOLDER), FOLDER)
        assert result.bytes_written > 0
        manager.eject(drive.id)
    finally:
        manager.stop()
        image.unmount()
    assert image.fsck_clean()
    env = {"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
    listing = subprocess.run(["mdir", "-/", "-b", "-i", str(image.image), "::/"], capture_output=True,
                             text=True, env=env, check=True).stdout
    assert "::/PHOTOS/photo.jpg" in listing and f"::/{FOLDER}/signPri.key" in listing, listing


def test_a_clean_stick_is_checked_once_and_written(tmp_path):
    image = fat32_with_npki(tmp_path)
    manager, drive, mounter = manager_over(image)
    try:
        manager.deliver(drive.id, bundle(folder=FOLDER), FOLDER)
        assert mounter.checks == 1
        (listed,) = [d for d in manager.drives() if d.id == drive.id]
        assert listed.eligible
    finally:
        manager.stop()
        image.unmount()


def hangul_label(image, label: str = "우체국") -> None:
    """What a Korean Windows writes as the label: CP949 bytes, in the boot sector and the root directory."""
    data = image.read_bytes()
    image.write_bytes(data.replace(b"DIRTY      ", label.encode("cp949").ljust(11, b" ")))


def truncate_a_chain(image) -> None:
    """A file whose chain ends early: its first cluster marked end-of-chain in both FATs."""
    with open(image, "r+b") as file:
        boot = file.read(512)
        sector, _per_cluster, reserved, fats = struct.unpack_from("<HBHB", boot, 0x0B)
        fat_size = struct.unpack_from("<H", boot, 0x16)[0]
        for copy in range(fats):
            file.seek((reserved + copy * fat_size) * sector)
            fat = bytearray(file.read(fat_size * sector))
            first_long_chain = next(c for c in range(2, len(fat) // 2)
                                    if struct.unpack_from("<H", fat, c * 2)[0] == c + 1)
            struct.pack_into("<H", fat, first_long_chain * 2, 0xFFFF)
            file.seek((reserved + copy * fat_size) * sector)
            file.write(fat)


def one_fat_copy_differs(image) -> None:
    with open(image, "r+b") as file:
        boot = file.read(512)
        sector, _per_cluster, reserved = struct.unpack_from("<HBH", boot, 0x0B)
        fat_size = struct.unpack_from("<H", boot, 0x16)[0]
        file.seek((reserved + fat_size) * sector + 400)  # the second copy: a cluster far from any file
        file.write(b"\xff\xff")


def test_a_stick_with_a_hangul_label_is_consistent_for_the_kiosk_though_fsck_fat_calls_the_label_invalid(tmp_path):
    image = fat32_with_npki(tmp_path)
    hangul_label(image.image)
    assert not fsck.check(str(image.image), "vfat"), "fsck.fat 4.2 no longer rejects Hangul labels: simplify"
    assert kiosk_finds(image.image) == []
    set_dirty_bit(image.image)
    assert kiosk_finds(image.image) == ["dirty flag set in the boot sector (not cleanly unmounted)"]


@pytest.mark.parametrize("damage", [set_dirty_bit, free_the_npki_cluster, truncate_a_chain, one_fat_copy_differs])
def test_the_kiosks_check_agrees_with_fsck_fat_on_each_damage(tmp_path, damage):
    image = fat32_with_npki(tmp_path)
    photo = tmp_path / "big.jpg"
    photo.write_bytes(os.urandom(20000))  # several clusters: a chain to cut
    subprocess.run(["mcopy", "-i", str(image.image), str(photo), "::/PHOTOS/"], check=True,
                   env={"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"})
    assert fsck.check(str(image.image), "vfat") and kiosk_finds(image.image) == []
    damage(image.image)
    assert not fsck.check(str(image.image), "vfat")
    assert kiosk_finds(image.image), damage.__name__


class UncheckableMounter(CheckingMounter):
    """udisks2 2.9 on an exFAT stick: "filesystem 'exfat' is not supported" for Filesystem.Check."""

    def check(self, drive) -> bool:
        self.checks += 1
        raise MountFailed("udisks2 Failed: Cannot check exfat filesystem: filesystem 'exfat' is not supported.")


def test_a_stick_that_cannot_be_checked_is_tried_once_while_listed_and_again_before_a_write(tmp_path):
    image = fat32_with_npki(tmp_path)
    drive = image_drive(image)
    mounter = UncheckableMounter(image)
    manager = DriveManager(lambda: [drive], lambda poke: (lambda: None), mounter)
    manager.start()
    try:
        assert listed_reason(manager, drive.id, timeout=2).eligible
        for _ in range(5):  # the watcher's rescans: the check failed once, and is not run again
            manager.refresh()
        time.sleep(0.5)
        assert mounter.checks == 1
        manager.deliver(drive.id, bundle(folder=FOLDER), FOLDER)
        assert mounter.checks == 2  # before writing it is tried again (and, failing, does not block)
    finally:
        manager.stop()
        image.unmount()

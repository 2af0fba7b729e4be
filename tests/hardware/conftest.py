"""Real drives for the hardware tests: FAT images mounted through FUSE (this kernel has no vfat), exFAT on
a loop device, umockdev testbeds. A missing tool fails the test with what to install; nothing is skipped."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from hardware import Drive, DriveManager
from hardware.drives import drive_id
from hardware.mount import Volume
from tests.fuse import FuseDaemon
from tests.tools import require_command

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DN = "cn=HongGildong()0011041201201228111000371,ou=KPB,ou=personal4IB,o=yessign,c=kr"
DN_FOLDER = f"NPKI/yessign/USER/{DN}"


def bundle(cert: bytes = b"C" * 1500, key: bytes = b"K" * 1300, folder: str = DN_FOLDER):
    return [(f"{folder}/signCert.der", cert), (f"{folder}/signPri.key", key)]


def complete_bundles(root: Path) -> list[Path]:
    """Folders anywhere on the drive that hold both files a banking program opens."""
    return [p.parent for p in root.rglob("signCert.der") if (p.parent / "signPri.key").exists()]


class FatImage:
    """A FAT image file mounted read-write (or read-only) by fusefat; `daemon` is the stick (tests/fuse.py)."""

    def __init__(self, image: Path, mountpoint: Path):
        self.image = image
        self.daemon = FuseDaemon(mountpoint)

    @property
    def mountpoint(self) -> Path:
        return self.daemon.mountpoint

    @mountpoint.setter
    def mountpoint(self, path: Path) -> None:
        self.daemon.mountpoint = path

    def mount(self, read_only: bool = False) -> Path:
        # -f: stay in the foreground, so the test holds the daemon's pid and can "pull the drive"
        self.daemon.start([require_command("fusefat", "fusefat"), "-f", "-o", "ro" if read_only else "rw+",
                           str(self.image), str(self.mountpoint)])
        return self.mountpoint

    def unmount(self) -> None:
        self.daemon.stop()

    def pull(self) -> None:
        """The customer pulls the stick out: the FUSE daemon dies mid-operation."""
        self.daemon.pull()

    def fsck_clean(self) -> bool:
        """fsck.fat -n (check only) finds nothing to repair."""
        result = subprocess.run([require_command("fsck.fat", "dosfstools"), "-n", str(self.image)],
                                capture_output=True, text=True, check=False)
        return result.returncode == 0 and "Reclaimed" not in result.stdout


def make_fat(tmp_path: Path, size_mib: int = 8, name: str = "stick") -> FatImage:
    image = tmp_path / f"{name}.img"
    with open(image, "wb") as f:
        f.truncate(size_mib * 1024 * 1024)
    subprocess.run([require_command("mkfs.vfat", "dosfstools"), "-n", "KIOSKTEST", str(image)], check=True,
                   capture_output=True)
    return FatImage(image, tmp_path / f"{name}-mnt")


@pytest.fixture
def fat(tmp_path):
    image = make_fat(tmp_path)
    yield image
    image.unmount()


class FuseFatMounter:
    """A real Mounter for an image file: mount = fusefat, unmount = fusermount -u. It stands where
    udisks2 stands in production (which cannot run here); power_off is recorded, there is no port."""

    def __init__(self, image: FatImage, read_only: bool = False):
        self.image = image
        self.read_only = read_only
        self.powered_off: list[str] = []

    def mount(self, drive: Drive) -> Volume:
        if not os.path.ismount(self.image.mountpoint):
            self.image.mount(read_only=self.read_only)
        return Volume(self.image.mountpoint)

    def unmount(self, drive: Drive) -> None:
        self.image.unmount()

    def power_off(self, drive: Drive) -> None:
        self.powered_off.append(drive.id)


def image_drive(image: FatImage, read_only: bool = False, fs_type: str = "vfat") -> Drive:
    return Drive(id=drive_id(str(image.image)), device=str(image.image), label="KIOSKTEST", fs_type=fs_type,
                 size_bytes=image.image.stat().st_size, vendor="Test", model="FAT image", serial="IMG-1",
                 read_only=read_only, removable=True, bus="usb", eligible=True, reason=None)


def image_manager(image: FatImage, read_only: bool = False) -> tuple[DriveManager, Drive, FuseFatMounter]:
    """A DriveManager over one FAT image: the real manager, write, verify and error paths, with the
    image standing in for the udev-listed stick (no listener: the list never changes by itself)."""
    drive = image_drive(image)
    mounter = FuseFatMounter(image, read_only=read_only)
    manager = DriveManager(lambda: [drive], lambda poke: (lambda: None), mounter)
    manager.start()
    return manager, drive, mounter

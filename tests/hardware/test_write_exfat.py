"""A real exFAT filesystem (mkfs.exfat on a loop device, mount.exfat-fuse), with a Hangul DN folder."""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import bundle, require

from hardware.write import write_bundle

HANGUL_DN = "NPKI/yessign/USER/cn=홍길동()0011041201201228111000371,ou=KPB,ou=personal4IB,o=yessign,c=kr"


@pytest.fixture
def exfat(tmp_path):
    image, mountpoint = tmp_path / "exfat.img", tmp_path / "mnt"
    with open(image, "wb") as f:
        f.truncate(16 * 1024 * 1024)
    subprocess.run([require("mkfs.exfat", "exfatprogs"), str(image)], check=True, capture_output=True)
    loop = subprocess.run([require("losetup", "mount"), "-f", "--show", str(image)], check=True,
                          capture_output=True, text=True).stdout.strip()
    mountpoint.mkdir()
    try:
        subprocess.run([require("mount.exfat-fuse", "exfat-fuse"), loop, str(mountpoint)], check=True,
                       capture_output=True)
        yield image, loop, mountpoint
    finally:
        subprocess.run(["fusermount", "-u", str(mountpoint)], check=False, capture_output=True)
        subprocess.run(["losetup", "-d", loop], check=False, capture_output=True)


def test_a_hangul_dn_folder_is_written_verified_and_survives_fsck(exfat):
    image, loop, root = exfat
    written = write_bundle(root, bundle(folder=HANGUL_DN), HANGUL_DN)
    assert written.path == HANGUL_DN
    assert sorted(os.listdir(root / HANGUL_DN)) == ["signCert.der", "signPri.key"]
    subprocess.run(["fusermount", "-u", str(root)], check=True)
    check = subprocess.run([require("fsck.exfat", "exfatprogs"), "-n", loop], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

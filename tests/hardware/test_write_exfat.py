"""A real exFAT filesystem (mkfs.exfat on a loop device, mount.exfat-fuse), with a Hangul DN folder."""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import bundle

from hardware.write import write_bundle
from tests.fuse import detach_loop, exfat_clean, exfat_loop_device
from tests.tools import require_command

HANGUL_DN = "NPKI/yessign/USER/cn=홍길동()0011041201201228111000371,ou=KPB,ou=personal4IB,o=yessign,c=kr"


@pytest.fixture
def exfat(tmp_path):
    image, mountpoint = tmp_path / "exfat.img", tmp_path / "mnt"
    loop = exfat_loop_device(image)
    mountpoint.mkdir()
    try:
        subprocess.run([require_command("mount.exfat-fuse", "exfat-fuse"), loop, str(mountpoint)], check=True,
                       capture_output=True)
        yield image, loop, mountpoint
    finally:
        subprocess.run(["fusermount", "-u", str(mountpoint)], check=False, capture_output=True)
        detach_loop(loop)


def test_a_hangul_dn_folder_is_written_verified_and_survives_fsck(exfat):
    image, loop, root = exfat
    written = write_bundle(root, bundle(folder=HANGUL_DN), HANGUL_DN)
    assert written.path == HANGUL_DN
    assert sorted(os.listdir(root / HANGUL_DN)) == ["signCert.der", "signPri.key"]
    subprocess.run(["fusermount", "-u", str(root)], check=True)
    check = exfat_clean(loop)
    assert check.returncode == 0, check.stdout + check.stderr

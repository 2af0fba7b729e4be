"""A hostile drive (ext4 or a crafted image may hold symlinks; FAT cannot): the kiosk never follows a
symlink or writes through a non-folder on the bundle's path. Runs on a plain directory of the test
machine's filesystem, which has symlinks."""

from __future__ import annotations

import os

import pytest
from conftest import DN_FOLDER, bundle, complete_bundles

from hardware import UnsafePath
from hardware.write import write_bundle


def test_an_npki_folder_that_is_a_symlink_elsewhere_is_refused(tmp_path):
    drive, elsewhere = tmp_path / "drive", tmp_path / "elsewhere"
    drive.mkdir()
    elsewhere.mkdir()
    (drive / "NPKI").symlink_to(elsewhere)
    with pytest.raises(UnsafePath):
        write_bundle(drive, bundle(), DN_FOLDER)
    assert os.listdir(elsewhere) == []


def test_a_dn_folder_that_is_a_symlink_is_refused(tmp_path):
    drive, elsewhere = tmp_path / "drive", tmp_path / "elsewhere"
    (drive / "NPKI/yessign/USER").mkdir(parents=True)
    elsewhere.mkdir()
    (drive / DN_FOLDER).symlink_to(elsewhere)
    with pytest.raises(UnsafePath):
        write_bundle(drive, bundle(), DN_FOLDER)
    assert os.listdir(elsewhere) == []


def test_a_file_where_a_folder_belongs_is_refused(tmp_path):
    drive = tmp_path / "drive"
    (drive / "NPKI/yessign").mkdir(parents=True)
    (drive / "NPKI/yessign/USER").write_bytes(b"not a folder")
    with pytest.raises(UnsafePath):
        write_bundle(drive, bundle(), DN_FOLDER)
    assert (drive / "NPKI/yessign/USER").read_bytes() == b"not a folder"


@pytest.mark.parametrize("path", ["../escape", "/etc/passwd", "NPKI/yessign/USER/a:b", "NPKI/./x", "dot."])
def test_paths_that_escape_or_that_fat_would_alter_are_refused(tmp_path, path):
    with pytest.raises(UnsafePath):
        write_bundle(tmp_path, [(f"{path}/signCert.der", b"x")], path)
    assert complete_bundles(tmp_path) == [] and os.listdir(tmp_path) == []


def test_a_file_outside_the_dn_folder_is_refused(tmp_path):
    with pytest.raises(UnsafePath):
        write_bundle(tmp_path, [*bundle(), ("NPKI/yessign/USER/other/signCert.der", b"x")], DN_FOLDER)
    assert os.listdir(tmp_path) == []


def test_hangul_names_are_written_nfc_normalised(tmp_path):
    decomposed = "cn=\u1112\u1169\u11bc\u1100\u1175\u11af\u1103\u1169\u11bc()0011,ou=KPB,o=yessign,c=kr"
    written = write_bundle(tmp_path, bundle(folder=f"NPKI/yessign/USER/{decomposed}"),
                           f"NPKI/yessign/USER/{decomposed}")
    assert written.path.endswith("cn=홍길동()0011,ou=KPB,o=yessign,c=kr")
    assert (tmp_path / "NPKI/yessign/USER/cn=홍길동()0011,ou=KPB,o=yessign,c=kr/signPri.key").exists()

"""After a reissue, the replaced certificate's folder leaves the stick, and nothing else does: a folder
whose certificate is not the replaced one, anything reached through a symlink, and the customer's own
files beside the bundle all stay. Real files on a real filesystem (tmp)."""

from __future__ import annotations

import os

from hardware.write import remove_bundle
from tests.hardware.conftest import DN_FOLDER


def put_bundle(root, folder=DN_FOLDER, cert=b"OLD-CERT"):
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    (path / "signCert.der").write_bytes(cert)
    (path / "signPri.key").write_bytes(b"KEY")
    return path


def is_old(der: bytes) -> bool:
    return der == b"OLD-CERT"


def test_the_replaced_bundle_and_its_folder_are_removed(tmp_path):
    folder = put_bundle(tmp_path)
    assert remove_bundle(tmp_path, DN_FOLDER, is_old)
    assert not folder.exists() and folder.parent.is_dir()


def test_a_folder_holding_another_certificate_stays(tmp_path):
    folder = put_bundle(tmp_path, cert=b"SOMEONE-ELSES")
    assert not remove_bundle(tmp_path, DN_FOLDER, is_old)
    assert (folder / "signCert.der").read_bytes() == b"SOMEONE-ELSES" and (folder / "signPri.key").exists()


def test_the_customers_own_files_beside_the_bundle_keep_the_folder(tmp_path):
    folder = put_bundle(tmp_path)
    (folder / "memo.txt").write_text("mine")
    assert remove_bundle(tmp_path, DN_FOLDER, is_old)
    assert sorted(os.listdir(folder)) == ["memo.txt"]


def test_nothing_is_removed_through_a_symlink(tmp_path):
    outside = put_bundle(tmp_path / "outside", folder="bundle")
    stick = tmp_path / "stick"
    (stick / DN_FOLDER).parent.mkdir(parents=True)
    os.symlink(outside, stick / DN_FOLDER)
    assert not remove_bundle(stick, DN_FOLDER, is_old)
    assert (outside / "signCert.der").exists()


def test_a_stick_without_the_folder_is_left_alone(tmp_path):
    assert not remove_bundle(tmp_path, DN_FOLDER, is_old)

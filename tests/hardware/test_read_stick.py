"""Reading a hostile stick for 내 인증서 확인: symlinks are not followed, huge files are not read, a stick
with thousands of folders is read in bounded time and says it was cut short, and names that are not
NFC are listed as they are. Real files on a real filesystem (tmp)."""

from __future__ import annotations

import os
import unicodedata

from hardware.read import MAX_FILE_BYTES, MAX_FOLDERS, read_certificate_folders


def user_folder(root, ca="yessign"):
    folder = root / "NPKI" / ca / "USER"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_50_mb_certificate_file_is_reported_not_read(tmp_path):
    folder = user_folder(tmp_path) / "cn=big"
    folder.mkdir()
    with open(folder / "signCert.der", "wb") as big:
        big.truncate(50 * 1024 * 1024)  # sparse: the size a reader would have to swallow
    [found] = read_certificate_folders(tmp_path).folders
    assert (found.certificate, found.problem) == (None, "too_large")


def test_symlinks_anywhere_on_the_path_are_not_followed(tmp_path):
    secret = tmp_path / "elsewhere"
    (secret / "USER" / "cn=x").mkdir(parents=True)
    (secret / "USER" / "cn=x" / "signCert.der").write_bytes(b"outside the stick")
    stick = tmp_path / "stick"
    (stick / "NPKI").mkdir(parents=True)
    os.symlink(secret, stick / "NPKI" / "linked-ca")                       # a CA folder that is a link
    user = user_folder(stick)
    os.symlink(secret / "USER" / "cn=x", user / "cn=linked")                # a subject folder that is a link
    (user / "cn=file-link").mkdir()
    os.symlink(secret / "USER" / "cn=x" / "signCert.der", user / "cn=file-link" / "signCert.der")
    contents = read_certificate_folders(stick)
    assert [(f.path, f.certificate, f.problem) for f in contents.folders] == [
        ("NPKI/yessign/USER/cn=file-link", None, "not_a_file")]


def test_ten_thousand_folders_are_cut_short_and_say_so(tmp_path):
    user = user_folder(tmp_path)
    for n in range(10_000):
        (user / f"cn={n:05d}").mkdir()
    contents = read_certificate_folders(tmp_path)
    assert len(contents.folders) == MAX_FOLDERS and contents.truncated
    assert all(f.problem == "missing" for f in contents.folders)


def test_names_that_are_not_nfc_are_listed_as_they_are(tmp_path):
    decomposed = unicodedata.normalize("NFD", "cn=홍길동")
    folder = user_folder(tmp_path) / decomposed
    folder.mkdir()
    (folder / "signCert.der").write_bytes(b"x" * 10)
    (folder / "signPri.key").write_bytes(b"k")
    [found] = read_certificate_folders(tmp_path).folders
    assert found.path.endswith(decomposed) and found.certificate == b"x" * 10 and found.has_key


def test_a_file_of_exactly_the_limit_is_read(tmp_path):
    folder = user_folder(tmp_path) / "cn=edge"
    folder.mkdir()
    (folder / "signCert.der").write_bytes(b"a" * MAX_FILE_BYTES)
    [found] = read_certificate_folders(tmp_path).folders
    assert len(found.certificate) == MAX_FILE_BYTES


def test_a_stick_whose_npki_is_a_file_holds_nothing(tmp_path):
    (tmp_path / "NPKI").write_bytes(b"not a folder")
    assert read_certificate_folders(tmp_path).folders == []


def test_key_files_are_read_only_when_asked_and_never_when_huge(tmp_path):
    user = user_folder(tmp_path)
    for name, key_size in (("cn=small", 1300), ("cn=huge", 50 * 1024 * 1024)):
        (user / name).mkdir()
        (user / name / "signCert.der").write_bytes(b"C" * 1500)
        with open(user / name / "signPri.key", "wb") as key:
            key.truncate(key_size)
    assert [f.key for f in read_certificate_folders(tmp_path).folders] == [None, None]
    huge, small = read_certificate_folders(tmp_path, with_keys=True).folders
    assert (huge.has_key, huge.key) == (True, None)
    assert small.key == b"\0" * 1300

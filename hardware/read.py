"""Reading the certificate folders on a customer's stick, for "내 인증서 확인": nothing is written.

A customer's stick is hostile input: a crafted one may hold symlinks, huge files, thousands of folders
or names that are not NFC. The walk follows no symlink (every step is `lstat`ed and opened with
`O_NOFOLLOW`), reads only `signCert.der` up to `MAX_FILE_BYTES`, looks at no more than `MAX_FOLDERS`
certificate folders, and reports what it could not read instead of failing the whole stick.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from hardware.npki import CERT_FILE, KEY_FILE, ROOT, USER

MAX_FOLDERS = 50            # far more certificates than any customer carries
MAX_ENTRIES = 2000          # entries looked at in any one folder of the walk
MAX_FILE_BYTES = 64 * 1024  # a signCert.der is about 1.6 KB
# every regular file the kiosk opens on a stick: never through a link, never waiting on a FIFO's writer
OPEN_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass(frozen=True)
class FoundFolder:
    """One `NPKI/<CA>/USER/<subject>` folder: its certificate's bytes, or why they could not be read
    (`missing`, `too_large`, `not_a_file`, `unreadable`)."""

    path: str
    certificate: bytes | None
    has_key: bool
    problem: str | None = None
    key: bytes | None = None  # signPri.key's bytes, read only when asked (renew, copy, password change)


@dataclass(frozen=True)
class StickContents:
    folders: list[FoundFolder]
    truncated: bool  # more folders than MAX_FOLDERS: only the first are listed


def read_certificate_folders(root: Path, with_keys: bool = False) -> StickContents:
    """Every certificate folder under `root/NPKI/*/USER/` (hardware.npki), in a stable order; `with_keys`
    reads each folder's encrypted `signPri.key` too (it stays in memory, as the customer's own file did)."""
    found: list[FoundFolder] = []
    truncated = False
    for ca in _subfolders(root / ROOT):
        for subject in _subfolders(ca / USER):
            if len(found) == MAX_FOLDERS:
                return StickContents(found, truncated=True)
            found.append(_read_folder(root, subject, with_keys))
    return StickContents(found, truncated)


def _subfolders(folder: Path) -> list[Path]:
    """Real folders directly inside `folder` (no symlinks), sorted; none when it is not a real folder."""
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return []
        names = []
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count == MAX_ENTRIES:
                    break
                if entry.is_dir(follow_symlinks=False):
                    names.append(entry.name)
    except OSError:
        return []
    return [folder / name for name in sorted(names)]


def _read_folder(root: Path, folder: Path, with_keys: bool) -> FoundFolder:
    relative = folder.relative_to(root).as_posix()
    if not _showable(relative):
        # bytes that are not UTF-8 (or a lone surrogate's): no page can carry the name, no form can send it
        # back, so the folder is listed by an escaped name and as unreadable (issue 26, item 4)
        return FoundFolder(escaped(relative), None, False, "bad_name")
    has_key = _is_file(folder / KEY_FILE)
    certificate, problem = read_small_file(folder / CERT_FILE)
    key = read_small_file(folder / KEY_FILE)[0] if with_keys and has_key else None
    return FoundFolder(relative, certificate, has_key, problem, key)


def _showable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def escaped(name: str) -> str:
    """A name the file system gave with undecodable bytes, with each such byte written as \\xNN."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_small_file(path: Path) -> tuple[bytes | None, str | None]:
    """A regular file's bytes up to MAX_FILE_BYTES, never through a symlink: (data, None), or (None, why
    not: `missing`, `not_a_file`, `too_large`, `unreadable`)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None, "missing"
    except OSError:
        return None, "unreadable"
    if not stat.S_ISREG(info.st_mode):
        return None, "not_a_file"
    if info.st_size > MAX_FILE_BYTES:
        return None, "too_large"
    try:
        # swapped for a FIFO or a device since the lstat: O_NONBLOCK opens it without waiting, fstat tells
        fd = os.open(path, OPEN_FILE_FLAGS)
        with os.fdopen(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return None, "not_a_file"
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError:
        return None, "unreadable"
    if len(data) > MAX_FILE_BYTES:
        return None, "too_large"
    return data, None


def _is_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False

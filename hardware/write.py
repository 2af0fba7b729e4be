"""Durable bundle write and read-back verify on a mounted drive.

The bundle lands in its folder (`NPKI/<CA>/USER/<subject DN>`) under the drive root, and the folder looks complete only once
every file is written, fsynced and verified:

1. walk to the parent folder component by component with `O_NOFOLLOW` + `lstat` (a symlink or a file
   anywhere on the path is `UnsafePath`; FAT has no symlinks, a crafted ext4 stick does);
2. check free space;
3. write each file as a hidden `.<name>.<token>.kiosk-partial` in the DN folder, fsync it, drop it from the
   page cache, read it back and compare SHA-256 digests;
4. move an existing bundle of the same DN aside (to `<subject DN>.bak` on reissue, otherwise to a hidden
   folder deleted at the end), so old and new files never mix;
5. rename the files to their real names, fsync the folder, and verify again past the page cache (on vfat
   a rename is not atomic across power loss, so only a read-back proves the result).

Only file renames are used, never folder renames: FUSE FAT implementations lose a renamed folder's
contents. A failure at any step removes what this call created, restores a set-aside bundle, and raises
one of the typed `DriveError`s. Only folders this call created (or the same DN's own `.bak`) are removed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from hardware.errors import DriveError, DriveFull, UnsafePath, VerifyFailed, from_os_error
from hardware.names import UnsafeName, fat_name
from hardware.npki import CERT_FILE, KEY_FILE
from hardware.read import MAX_ENTRIES, MAX_FILE_BYTES, OPEN_FILE_FLAGS

PARTIAL = ".kiosk-partial"
DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# what opening a path the kiosk did not make answers: absent, a symlink (O_NOFOLLOW), not a folder
NOT_OURS = (errno.ENOENT, errno.ELOOP, errno.ENOTDIR, errno.EISDIR)


@dataclass(frozen=True)
class WrittenBundle:
    """What was published: the folder relative to the drive root, and the payload size."""

    path: str
    bytes_written: int


def safe_name(name: str) -> str:
    """One path component by the FAT/exFAT name rule (hardware.names), as a drive error."""
    try:
        return fat_name(name)
    except UnsafeName as exc:
        raise UnsafePath(str(exc)) from exc


def on_disk(parent_fd: int, name: str) -> str:
    """`name` as the folder at `parent_fd` spells it: itself when present, else an entry equal to it in
    NFC (a Mac writes Hangul in NFD; FAT/exFAT readers and macOS compare names so), else itself. A
    certificate read from an NFD folder is written back into that folder, not beside it (issue 26)."""
    try:
        os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        return name
    except FileNotFoundError:
        pass
    wanted = unicodedata.normalize("NFC", name)
    for count, entry in enumerate(os.listdir(parent_fd)):
        if count == MAX_ENTRIES:
            break
        if unicodedata.normalize("NFC", entry) == wanted:
            return entry
    return name


def split_path(path: str) -> tuple[str, ...]:
    """A relative path as safe components; absolute paths and `..` are refused, never resolved."""
    if path.startswith("/"):
        raise UnsafePath(f"absolute path {path!r}")
    return tuple(safe_name(part) for part in path.split("/"))


def plan_bundle(
    files: Iterable[tuple[str, bytes]], folder: str
) -> tuple[tuple[str, ...], dict[str, bytes]]:
    """The bundle folder's components and its files by name. `folder` and the file paths are relative
    to the drive root (`NPKI/yessign/USER/cn=...`), and every file lies directly in `folder`."""
    components = split_path(folder)
    entries: dict[str, bytes] = {}
    for relative_path, data in files:
        parts = split_path(relative_path)
        if parts[:-1] != components:
            raise UnsafePath(f"{relative_path!r} is not directly inside the bundle folder {folder!r}")
        if parts[-1] in entries:
            raise UnsafePath(f"{relative_path!r} appears twice in the bundle")
        entries[parts[-1]] = bytes(data)
    if not entries:
        raise UnsafePath("an empty bundle")
    return components, entries


def write_bundle(
    root: Path,
    files: Iterable[tuple[str, bytes]],
    folder: str,
    *,
    keep_backup: bool = False,
    free_bytes: Callable[[], int] | None = None,
    device: str | None = None,
) -> WrittenBundle:
    """Write, fsync, verify and publish the bundle under `root`; raises a `DriveError` subclass.

    `free_bytes` overrides the filesystem's free space (demo drives have a size of their own).
    """
    components, entries = plan_bundle(files, folder)
    try:
        root_fd = os.open(root, DIRECTORY_FLAGS)
    except OSError as exc:
        raise from_os_error(exc, device=device, root_exists=False) from exc
    try:
        _check_space(root_fd, entries, free_bytes)
        parent_fd = _walk(root_fd, components[:-1])
        try:
            _publish(parent_fd, components[-1], entries, keep_backup)
        finally:
            os.close(parent_fd)
    except DriveError as exc:
        exc.device = exc.device or device
        raise
    except OSError as exc:
        raise from_os_error(exc, device=device, root_exists=_alive(root)) from exc
    finally:
        with contextlib.suppress(OSError):
            os.close(root_fd)
    return WrittenBundle("/".join(components), sum(len(data) for data in entries.values()))


def _alive(root: Path) -> bool:
    """Whether the drive's root is still reachable (a pulled FUSE/USB mount fails even to stat)."""
    try:
        return os.stat(root).st_ino != 0
    except OSError:
        return False


def _check_space(root_fd: int, entries: dict[str, bytes], free_bytes: Callable[[], int] | None) -> None:
    """Refuse before writing anything: each file takes whole clusters, plus the folders' own clusters."""
    vfs = os.fstatvfs(root_fd)
    cluster = max(vfs.f_bsize, 512)
    needed = sum(-(-len(data) // cluster) * cluster for data in entries.values()) + 4 * cluster
    available = free_bytes() if free_bytes is not None else vfs.f_bavail * vfs.f_frsize
    if needed > available:
        raise DriveFull(f"the bundle needs {needed} bytes, the drive has {available} free")


def _open_child_directory(parent_fd: int, name: str) -> int:
    """Open (creating if absent) one folder without following symlinks; lstat and fstat must agree."""
    try:
        before = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        os.mkdir(name, 0o700, dir_fd=parent_fd)
        os.fsync(parent_fd)
        before = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    if not stat.S_ISDIR(before.st_mode):
        kind = "a symlink" if stat.S_ISLNK(before.st_mode) else "not a folder"
        raise UnsafePath(f"{name!r} on the bundle's path is {kind}")
    fd = os.open(name, DIRECTORY_FLAGS, dir_fd=parent_fd)
    after = os.fstat(fd)
    if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)
        raise UnsafePath(f"{name!r} changed while it was opened")
    return fd


def _walk(root_fd: int, parts: tuple[str, ...]) -> int:
    fd = os.dup(root_fd)
    for name in parts:
        try:
            child = _open_child_directory(fd, on_disk(fd, name))
        finally:
            os.close(fd)
        fd = child
    return fd


def _write_file(folder_fd: int, name: str, data: bytes) -> None:
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                 dir_fd=folder_fd)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError as exc:
        raise _full_or(exc, fd) from exc
    finally:
        os.close(fd)


def _full_or(exc: OSError, fd: int) -> OSError:
    """Some FAT drivers (fusefat) answer EPERM or EIO instead of ENOSPC when the last cluster is taken:
    a write refused on a filesystem with no free cluster left is a full drive."""
    if exc.errno == errno.ENOSPC:
        return exc
    try:
        full = os.fstatvfs(fd).f_bavail == 0
    except OSError:
        return exc
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) if full else exc


def read_past_cache(folder_fd: int, name: str) -> bytes:
    """Read a file back from the device, not from the page cache (pages dropped before reading)."""
    fd = os.open(name, OPEN_FILE_FLAGS, dir_fd=folder_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise VerifyFailed(f"{name} is no longer a regular file")
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def verify_folder(folder_fd: int, entries: dict[str, bytes], names: dict[str, str] | None = None) -> None:
    """Compare SHA-256 digests of what is on the drive with what was meant; `names` maps to on-disk names."""
    for name, data in entries.items():
        on_disk = (names or {}).get(name, name)
        if hashlib.sha256(read_past_cache(folder_fd, on_disk)).digest() != hashlib.sha256(data).digest():
            raise VerifyFailed(f"{name} read back differs from what was written")


def _publish(parent_fd: int, leaf: str, entries: dict[str, bytes], keep_backup: bool) -> None:
    leaf = on_disk(parent_fd, leaf)
    created = _ensure_folder(parent_fd, leaf)
    folder_fd = _open_child_directory(parent_fd, leaf)
    token = secrets.token_hex(4)
    partial = {name: f".{name}.{token}{PARTIAL}" for name in entries}
    moved: list[str] = []
    aside: str | None = None
    try:
        for name, data in entries.items():
            _write_file(folder_fd, partial[name], data)
        os.fsync(folder_fd)
        verify_folder(folder_fd, entries, partial)
        aside = f"{leaf}.bak" if keep_backup else f".{token}.kiosk-old"
        moved = _set_aside(parent_fd, folder_fd, aside, list(entries), fresh=keep_backup)
        for name in entries:
            os.rename(partial[name], name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            partial[name] = name
        os.fsync(folder_fd)
        verify_folder(folder_fd, entries)
    except (OSError, DriveError):
        with contextlib.suppress(OSError):  # the drive may be gone: the original error is the news
            _undo(parent_fd, folder_fd, leaf, list(partial.values()), aside, moved, created)
        raise
    finally:
        os.close(folder_fd)
    if aside and not keep_backup and moved:
        remove_tree(parent_fd, aside)
        os.fsync(parent_fd)


def _ensure_folder(parent_fd: int, leaf: str) -> bool:
    """Create the DN folder if absent; True when this call created it (so a failure may remove it)."""
    try:
        os.mkdir(leaf, 0o700, dir_fd=parent_fd)
    except FileExistsError:
        return False
    os.fsync(parent_fd)
    return True


def _set_aside(parent_fd: int, folder_fd: int, aside: str, names: list[str], fresh: bool) -> list[str]:
    """Move an existing bundle's files out of the DN folder before the new ones take their names, so a
    crash never leaves old and new files mixed: to `<leaf>.bak` on reissue (replacing the same DN's
    previous backup), else to a hidden folder removed once the new bundle is verified.

    Only file renames are used: FUSE FAT implementations lose a renamed folder's contents."""
    present = [name for name in names if _lexists(folder_fd, name)]
    if not present:
        return []
    for name in present:
        if stat.S_ISDIR(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode):
            raise UnsafePath(f"{name!r} in the bundle folder is a folder")
    if fresh and _lexists(parent_fd, aside):
        if not stat.S_ISDIR(os.stat(aside, dir_fd=parent_fd, follow_symlinks=False).st_mode):
            raise UnsafePath(f"{aside!r} exists and is not a folder")
        remove_tree(parent_fd, aside)  # the same DN's previous backup: ours to replace
    os.mkdir(aside, 0o700, dir_fd=parent_fd)
    aside_fd = os.open(aside, DIRECTORY_FLAGS, dir_fd=parent_fd)
    try:
        for name in present:
            os.rename(name, name, src_dir_fd=folder_fd, dst_dir_fd=aside_fd)
        os.fsync(aside_fd)
    finally:
        os.close(aside_fd)
    os.fsync(folder_fd)
    os.fsync(parent_fd)
    return present


def _lexists(dir_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _undo(parent_fd: int, folder_fd: int, leaf: str, ours: list[str], aside: str | None,
          moved: list[str], created: bool) -> None:
    """Put the drive back as it was: remove the files this call wrote, bring a set-aside bundle back,
    and remove the DN folder if this call created it. Best effort: a pulled drive cannot be repaired."""
    for name in ours:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=folder_fd)
    if moved and aside:
        aside_fd = os.open(aside, DIRECTORY_FLAGS, dir_fd=parent_fd)
        try:
            for name in moved:
                os.rename(name, name, src_dir_fd=aside_fd, dst_dir_fd=folder_fd)
        finally:
            os.close(aside_fd)
        os.rmdir(aside, dir_fd=parent_fd)
    os.fsync(folder_fd)
    if created:
        os.rmdir(leaf, dir_fd=parent_fd)
    os.fsync(parent_fd)


def remove_bundle(root: Path, folder: str, belongs: Callable[[bytes], bool], *, device: str | None = None) -> bool:
    """Take a replaced certificate's folder off the stick, after its successor is verified there.

    Only when the folder's signCert.der `belongs` (is the certificate being replaced: a customer may
    have put anything under that name); only the bundle's own two files, then the folder itself if
    nothing else is left in it; never through a symlink. True when the certificate was removed."""
    components = split_path(folder)
    try:
        root_fd = os.open(root, DIRECTORY_FLAGS)
    except OSError as exc:
        raise from_os_error(exc, device=device, root_exists=False) from exc
    try:
        parent_fd = _open_existing(root_fd, components[:-1])
        if parent_fd is None:
            return False
        try:
            return _remove_if_belongs(parent_fd, components[-1], belongs)
        finally:
            os.close(parent_fd)
    except OSError as exc:
        raise from_os_error(exc, device=device, root_exists=_alive(root)) from exc
    finally:
        os.close(root_fd)


def _open_existing(root_fd: int, parts: tuple[str, ...]) -> int | None:
    """The folder at `parts`, opened without creating or following anything; None when it is not there."""
    fd = os.dup(root_fd)
    for name in parts:
        try:
            child = os.open(on_disk(fd, name), DIRECTORY_FLAGS, dir_fd=fd)
        except OSError as exc:
            if exc.errno in NOT_OURS:
                return None
            raise
        finally:
            os.close(fd)
        fd = child
    return fd


def _remove_if_belongs(parent_fd: int, leaf: str, belongs: Callable[[bytes], bool]) -> bool:
    leaf = on_disk(parent_fd, leaf)
    folder_fd = _open_existing(parent_fd, (leaf,))
    if folder_fd is None:
        return False
    try:
        certificate = _read_small(folder_fd, CERT_FILE)
        if certificate is None or not belongs(certificate):
            return False
        for name in (KEY_FILE, CERT_FILE):
            if _lexists(folder_fd, name):
                os.unlink(name, dir_fd=folder_fd)
        os.fsync(folder_fd)
        left = os.listdir(folder_fd)
    finally:
        os.close(folder_fd)
    if not left:
        os.rmdir(leaf, dir_fd=parent_fd)
    os.fsync(parent_fd)
    return True


def _read_small(folder_fd: int, name: str) -> bytes | None:
    """A certificate-sized regular file's bytes; None when it is absent, a link, a folder or too big."""
    try:
        fd = os.open(name, OPEN_FILE_FLAGS, dir_fd=folder_fd)
    except OSError as exc:
        if exc.errno in NOT_OURS:
            return None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return None
        return os.read(fd, MAX_FILE_BYTES)
    finally:
        os.close(fd)


def remove_tree(parent_fd: int, name: str) -> None:
    """Delete a folder this module created, never following a symlink inside it."""
    info = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(name, dir_fd=parent_fd)
        return
    fd = os.open(name, DIRECTORY_FLAGS, dir_fd=parent_fd)
    try:
        for entry in os.listdir(fd):
            remove_tree(fd, entry)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent_fd)

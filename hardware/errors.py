"""The ways a delivery to a customer's drive can fail, each with a stable `.code` the kiosk translates.

The screen never shows an exception's text: it maps `.code` to plain Korean/English. The message is for
the technician's log. After any of these, nothing on the drive looks like a complete bundle unless it is one
(see `hardware.write`).
"""

from __future__ import annotations

import errno


class DriveError(Exception):
    """Base of every drive failure a person can be told about."""

    code = "drive_error"

    def __init__(self, message: str = "", *, device: str | None = None):
        super().__init__(message or self.code)
        self.device = device


class DriveRemoved(DriveError):
    """The drive (or its mount) vanished: pulled out, powered off, or the id is no longer listed."""

    code = "drive_removed"


class DriveFull(DriveError):
    """Not enough free space for the bundle (checked first, and ENOSPC while writing)."""

    code = "drive_full"


class ReadOnlyDrive(DriveError):
    """The medium is write-protected or the filesystem is mounted read-only."""

    code = "read_only"


class UnsupportedFilesystem(DriveError):
    """Not vfat/exfat, or no filesystem at all: the kiosk will not format a customer's drive."""

    code = "unsupported_fs"


class UnsafePath(DriveError):
    """A symlink or a non-directory on the bundle's path, or a bundle path that escapes its folder."""

    code = "unsafe_path"


class NeedsRepair(DriveError):
    """The filesystem is dirty or inconsistent (fsck found something to repair), or the kernel mounted it
    read-only after errors: nothing is written until it is repaired (DriveManager.repair)."""

    code = "needs_repair"


class MountFailed(DriveError):
    """The drive could not be mounted (udisks2/polkit refused, mount(8) failed): a technician's matter."""

    code = "mount_failed"


class WriteFailed(DriveError):
    """An I/O error while writing that is none of the above (EIO on a failing stick)."""

    code = "write_failed"


class VerifyFailed(DriveError):
    """What was read back past the page cache differs from what was written."""

    code = "verify_failed"


# errno values that mean "the drive went away" — a pulled stick shows up as any of these,
# depending on whether the kernel, the FUSE daemon or udisks2 noticed first. ECONNABORTED is what a call
# blocked in a FUSE request gets when the daemon dies under it (a stick pulled mid-write, fusefat here).
_GONE = {errno.ENODEV, errno.ENXIO, errno.ENOTCONN, errno.ECONNABORTED, errno.ESTALE, errno.ENOMEDIUM,
         errno.ENOENT}


def from_os_error(exc: OSError, *, device: str | None = None, root_exists: bool = True) -> DriveError:
    """Translate an OSError raised while touching the drive into the typed error a person understands.

    `root_exists` tells ENOENT apart: a missing file under a live mount is a bug or a race (WriteFailed),
    under a vanished mount it is a removed drive.
    """
    message = f"{exc.strerror or exc} ({errno.errorcode.get(exc.errno or 0, exc.errno)})"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return DriveFull(message, device=device)
    if exc.errno == errno.EROFS:
        return ReadOnlyDrive(message, device=device)
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EISDIR):
        return UnsafePath(message, device=device)
    if exc.errno in _GONE and (exc.errno != errno.ENOENT or not root_exists):
        return DriveRemoved(message, device=device)
    return WriteFailed(message, device=device)

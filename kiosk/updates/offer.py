"""What a technician's stick offers the kiosk, and the one install that runs.

A bundle on a stick is offered only when the updater reads it, its signature verifies against the
kiosk's keyring, it is built for this kind of kiosk (RAUC's `compatible`) and its version is newer than
the running system's. Going back to an older version is the A/B fallback's job, never a stick's: an old
signed bundle is how a fixed hole would be opened again. RAUC checks the signature and the compatible
again when it installs; the verdict here is what the staff are told before they tap 설치.

설치 copies the bundle from the stick to the kiosk's data directory first, and RAUC installs the copy:
RAUC refuses a bundle whose file another user could change, and a FAT stick mounted for the kiosk's user
shows its files as that user's (RAUC, as root, takes a copy on ext4 over; it cannot take a FAT file).
The stick is free as soon as the copy is made.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from packaging.version import InvalidVersion, Version

from hardware import DriveError, DriveManager
from kiosk import logs

BUNDLE_SUFFIX = ".raucb"
COPY_CHUNK = 1024 * 1024
# room the kiosk keeps on its data partition beside a copied bundle (its database, journal, RAUC's status)
RESERVE_BYTES = 128 * 1024 * 1024
INSTALL_DONE = "Installing done."
# a stick is a technician's, not a library: more bundles than this at its root are not all inspected
MOST_BUNDLES_PER_STICK = 8


class Verdict(StrEnum):
    INSTALLABLE = "installable"
    SIGNATURE_REFUSED = "signature_refused"  # not signed by a key of the kiosk's keyring
    UNREADABLE = "unreadable"                # cut short, or not a bundle at all
    OTHER_DEVICE = "other_device"            # built for another kind of device (RAUC's compatible)
    NOT_NEWER = "not_newer"                  # the running version, or an older one


@dataclass(frozen=True)
class Inspection:
    """What the updater read of one bundle file; `signature_ok` False also when it could not be read."""

    readable: bool
    signature_ok: bool
    compatible: str = ""
    version: str = ""
    signer: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Bundle:
    """One bundle file at the root of a listed stick, with the kiosk's verdict on it."""

    drive_id: str
    drive_label: str
    file_name: str
    version: str
    signer: str
    verdict: Verdict
    detail: str = ""

    @property
    def installable(self) -> bool:
        return self.verdict is Verdict.INSTALLABLE


class InstallState(StrEnum):
    IDLE = "idle"
    COPYING = "copying"       # from the stick to the data directory, before RAUC is asked
    INSTALLING = "installing"
    INSTALLED = "installed"   # written to the other slot: a restart boots it, the health gate proves it
    FAILED = "failed"


@dataclass(frozen=True)
class InstallProgress:
    state: InstallState
    percent: int = 0
    message: str = ""
    version: str = ""


class UpdaterUnavailable(Exception):
    """The updater (RAUC's service, logind for the restart) did not answer or refused the request."""


class UpdateRefused(Exception):
    def __init__(self, verdict: Verdict | None, message: str):
        super().__init__(message)
        self.verdict = verdict


class Updater(Protocol):
    compatible: str

    def inspect(self, path: Path) -> Inspection: ...

    def install(self, path: Path) -> None: ...

    def operation(self) -> tuple[str, int, str, str]:
        """RAUC's Installer: (operation, percent, progress message, last error)."""
        ...

    def reboot(self) -> None: ...


def install_outcome(operation: str, message: str) -> InstallState:
    """What RAUC's Installer says of its install: still running, or how it ended. RAUC ends an install's
    progress with "Installing done." or "Installing failed." (LastError may still hold an older error)."""
    if operation == "installing":
        return InstallState.INSTALLING
    return InstallState.INSTALLED if message == INSTALL_DONE else InstallState.FAILED


def hand_over(updater: Updater, bundle: Path, sleep=time.sleep, limit_s: float = 30.0) -> None:
    """InstallBundle, then until RAUC's Installer shows the install begun: InstallBundle returns before
    the Installer's properties change, and until they do they still tell of the previous install (its
    "Installing done." would read as this one's end). Raises UpdaterUnavailable."""
    before = updater.operation()
    updater.install(bundle)
    deadline = time.monotonic() + limit_s
    while updater.operation() == before and time.monotonic() < deadline:
        sleep(0.5)


def judge(inspection: Inspection, compatible: str, running_version: str) -> Verdict:
    if not inspection.readable:
        return Verdict.UNREADABLE
    if not inspection.signature_ok:
        return Verdict.SIGNATURE_REFUSED
    if inspection.compatible != compatible:
        return Verdict.OTHER_DEVICE
    try:
        newer = Version(inspection.version) > Version(running_version)
    except InvalidVersion:
        return Verdict.UNREADABLE
    return Verdict.INSTALLABLE if newer else Verdict.NOT_NEWER


class SystemUpdates:
    """The staff console's 시스템 업데이트: find bundles on the listed sticks, install one, restart."""

    def __init__(self, updater: Updater, drives: DriveManager, running_version: str, staging: Path):
        self.updater = updater
        self.drives = drives
        self.running_version = running_version
        self.staging = staging                   # where a bundle is copied to before RAUC installs it
        self._lock = threading.Lock()
        self._installing: Bundle | None = None  # the install started here (until a restart)
        self._copy: tuple[int, int] | None = None  # (bytes copied, bytes in all) while copying
        self._failure = ""                       # why the copy or the hand-over failed
        self._ended = False                      # its end is logged, its copy removed

    def find(self) -> list[Bundle]:
        """Every bundle at the root of every listed stick, judged. A stick that cannot be read is logged
        and skipped (its reason is on the console's drive list already)."""
        found: list[Bundle] = []
        if self._copy is not None:  # a stick is being read: the console shows the install instead
            return found
        for drive in self.drives.drives():
            try:
                found.extend(self._bundles_on(drive.id, drive.label or drive.id))
            except DriveError as exc:
                logs.warning("update.stick_unreadable", drive=drive.id, code=exc.code)
        logs.event("update.bundles_found", bundles=len(found),
                   installable=sum(bundle.installable for bundle in found))
        return found

    def _bundles_on(self, drive_id: str, label: str) -> list[Bundle]:
        root = self.drives.mount_read_only(drive_id)
        try:
            names = sorted(entry.name for entry in root.iterdir()
                           if entry.name.lower().endswith(BUNDLE_SUFFIX) and entry.is_file())
            return [self._judged(drive_id, label, root / name) for name in names[:MOST_BUNDLES_PER_STICK]]
        except OSError as exc:
            logs.warning("update.stick_unreadable", drive=drive_id, code="os_error", detail=str(exc))
            return []
        finally:
            self.drives.release(drive_id)

    def _judged(self, drive_id: str, label: str, path: Path) -> Bundle:
        inspection = self.updater.inspect(path)
        return Bundle(drive_id=drive_id, drive_label=label, file_name=path.name, version=inspection.version,
                      signer=inspection.signer, detail=inspection.detail,
                      verdict=judge(inspection, self.updater.compatible, self.running_version))

    def install(self, drive_id: str, file_name: str) -> Bundle:
        """Judge the named bundle again (the stick may have changed since it was shown), then copy it and
        hand the copy to the updater, on a thread of its own (`progress` follows it). Raises UpdateRefused."""
        with self._lock:
            if self.progress().state in (InstallState.COPYING, InstallState.INSTALLING, InstallState.INSTALLED):
                raise UpdateRefused(None, "an install runs, or waits for its restart")
            try:
                wanted = [bundle for bundle in self._bundles_on(drive_id, drive_id) if bundle.file_name == file_name]
            except DriveError as exc:
                raise UpdateRefused(None, f"the stick cannot be read: {exc.code}") from exc
            if not wanted:
                raise UpdateRefused(None, "no such bundle on the stick")
            bundle = wanted[0]
            if not bundle.installable:
                raise UpdateRefused(bundle.verdict, f"not installable: {bundle.verdict}")
            self._installing, self._copy, self._failure, self._ended = bundle, (0, 0), "", False
        threading.Thread(target=self._copy_then_install, args=(bundle,), name="update-install", daemon=True).start()
        return bundle

    def _copy_then_install(self, bundle: Bundle) -> None:
        try:
            staged = self._copy_from_stick(bundle)
            logs.event("update.bundle_copied", bundle=bundle.file_name, bytes=staged.stat().st_size)
            hand_over(self.updater, staged)
        except (OSError, DriveError, UpdaterUnavailable) as exc:
            self._failure = f"{type(exc).__name__}: {exc}"
            logs.error("update.install_failed", version=bundle.version, detail=self._failure)
            self._remove_copy()
        else:
            logs.warning("update.install_started", version=bundle.version, bundle=bundle.file_name,
                         drive=bundle.drive_id)
        finally:
            self._copy = None

    def _copy_from_stick(self, bundle: Bundle) -> Path:
        """The bundle in the staging directory (nothing else left there), the stick unmounted again."""
        self._remove_copy()
        self.staging.mkdir(mode=0o700, parents=True, exist_ok=True)
        root = self.drives.mount_read_only(bundle.drive_id)
        try:
            source = root / bundle.file_name
            size = source.stat().st_size
            if size > shutil.disk_usage(self.staging).free - RESERVE_BYTES:
                raise OSError(f"no room for {size} bytes in {self.staging}")
            target = self.staging / bundle.file_name
            with source.open("rb") as reading, target.open("wb") as writing:
                while chunk := reading.read(COPY_CHUNK):
                    writing.write(chunk)
                    self._copy = (writing.tell(), size)
                writing.flush()
                os.fsync(writing.fileno())
            return target
        finally:
            self.drives.release(bundle.drive_id)

    def _remove_copy(self) -> None:
        if self.staging.is_dir():
            for leftover in self.staging.iterdir():
                leftover.unlink(missing_ok=True)

    def progress(self) -> InstallProgress:
        """The updater's own state: an install started by an earlier run of the app shows as well."""
        bundle, copy = self._installing, self._copy
        version = bundle.version if bundle else ""
        if copy is not None:
            done, size = copy
            return InstallProgress(InstallState.COPYING, done * 100 // size if size else 0, "", version)
        if self._failure:
            return InstallProgress(InstallState.FAILED, 0, self._failure, version)
        try:
            operation, percent, message, last_error = self.updater.operation()
        except UpdaterUnavailable:
            return InstallProgress(InstallState.IDLE)
        state = install_outcome(operation, message)
        if state is not InstallState.INSTALLING and bundle is None:
            return InstallProgress(InstallState.IDLE)
        return InstallProgress(state, percent, last_error if state is InstallState.FAILED and last_error else message,
                               version)

    def finish(self) -> InstallProgress:
        """Once RAUC's install ended: log how, once, and remove the copy. The console goes on showing
        how it ended until the restart, or until the staff try again."""
        progress = self.progress()
        with self._lock:
            bundle = self._installing
            if bundle is None or self._ended or self._failure or progress.state in (
                    InstallState.COPYING, InstallState.INSTALLING, InstallState.IDLE):
                return progress
            self._ended = True
            if progress.state is InstallState.FAILED:
                logs.error("update.install_failed", version=bundle.version, detail=progress.message)
            else:
                logs.warning("update.install_finished", version=bundle.version)
            self._remove_copy()
        return progress

    def reboot(self) -> None:
        """Restart into the installed slot (RAUC made it GRUB's first choice); raises UpdaterUnavailable."""
        logs.warning("update.restart_requested", version=self._installing.version if self._installing else "")
        self.updater.reboot()

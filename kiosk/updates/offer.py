"""What a technician's stick offers the kiosk, and the one install that runs.

A bundle on a stick is offered only when the updater reads it, its signature verifies against the
kiosk's keyring, it is built for this kind of kiosk (RAUC's `compatible`) and its version is newer than
the running system's. Going back to an older version is the A/B fallback's job, never a stick's: an old
signed bundle is how a fixed hole would be opened again. RAUC checks the signature and the compatible
again when it installs; the verdict here is what the staff are told before they tap 설치.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from packaging.version import InvalidVersion, Version

from hardware import DriveError, DriveManager
from kiosk import logs

BUNDLE_SUFFIX = ".raucb"
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

    def __init__(self, updater: Updater, drives: DriveManager, running_version: str):
        self.updater = updater
        self.drives = drives
        self.running_version = running_version
        self._lock = threading.Lock()
        self._installing: Bundle | None = None  # the install started here (until a restart)
        self._holding: str | None = None        # the drive kept mounted while RAUC reads the bundle

    def find(self) -> list[Bundle]:
        """Every bundle at the root of every listed stick, judged. A stick that cannot be read is logged
        and skipped (its reason is on the console's drive list already)."""
        found: list[Bundle] = []
        if self._holding is not None:  # that stick is busy: the console shows the install instead
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
        """Judge the named bundle again (the stick may have changed since it was shown), then hand it to
        the updater with the stick mounted read-only until the install ends. Raises UpdateRefused or
        UpdaterUnavailable."""
        with self._lock:
            if self.progress().state in (InstallState.INSTALLING, InstallState.INSTALLED):
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
            self._installing, self._holding = bundle, drive_id
            try:
                self.updater.install(self.drives.mount_read_only(drive_id) / file_name)
            except (UpdaterUnavailable, DriveError):
                self._installing = None
                self._release()
                raise
        logs.warning("update.install_started", version=bundle.version, bundle=file_name, drive=drive_id)
        return bundle

    def progress(self) -> InstallProgress:
        """The updater's own state: an install started by an earlier run of the app shows as well."""
        try:
            operation, percent, message, last_error = self.updater.operation()
        except UpdaterUnavailable:
            return InstallProgress(InstallState.IDLE)
        version = self._installing.version if self._installing else ""
        state = install_outcome(operation, message)
        if state is not InstallState.INSTALLING and self._installing is None:
            return InstallProgress(InstallState.IDLE)
        return InstallProgress(state, percent, last_error if state is InstallState.FAILED and last_error else message,
                               version)

    def finish(self) -> InstallProgress:
        """Once the install ended: log its end once and let the stick go (unmounted, still plugged). The
        console goes on showing how it ended until the restart, or until the staff try again."""
        progress = self.progress()
        with self._lock:
            bundle = self._installing
            if bundle is None or self._holding is None or progress.state is InstallState.INSTALLING:
                return progress
            if progress.state is InstallState.FAILED:
                logs.error("update.install_failed", version=bundle.version, detail=progress.message)
            else:
                logs.warning("update.install_finished", version=bundle.version)
            self._release()
        return progress

    def reboot(self) -> None:
        """Restart into the installed slot (RAUC made it GRUB's first choice); raises UpdaterUnavailable."""
        logs.warning("update.restart_requested", version=self._installing.version if self._installing else "")
        self.updater.reboot()

    def _release(self) -> None:
        drive_id, self._holding = self._holding, None
        try:
            self.drives.release(drive_id)
        except DriveError as exc:  # pulled already: nothing is left mounted
            logs.event("update.stick_release_failed", logging.WARNING, drive=drive_id, code=exc.code)

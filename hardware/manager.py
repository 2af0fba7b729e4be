"""`DriveManager`: the one object the kiosk talks to — the live list of drives, delivery of a bundle to
the drive the customer picked, and eject. It composes a drive source (udev or demo folders), a `Watcher`,
and a `Mounter` (udisks2, mount(8) or demo), chosen by `from_backend`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from hardware.demo import DemoMounter, demo_signature, scan_demo
from hardware.drives import WRITABLE_FILESYSTEMS, Drive, with_reason
from hardware.errors import (
    DriveError,
    DriveRemoved,
    NeedsRepair,
    ReadOnlyDrive,
    UnsafePath,
    UnsupportedFilesystem,
    from_os_error,
)
from hardware.log import LOGGER, event
from hardware.mount import DirectMounter, Mounter, mounted_read_only
from hardware.read import StickContents, read_certificate_folders
from hardware.watch import Listener, Watcher, polling_listener, udev_listener
from hardware.write import remove_bundle, write_bundle

BACKENDS = ("demo", "udisks2", "mount")
Subscriber = Callable[[list[Drive]], None]


@dataclass(frozen=True)
class DeliveryResult:
    drive_serial: str
    bundle_path_on_drive: str
    bytes_written: int


class DriveManager:
    """The live list of drives and the verbs a customer's journey needs: deliver, eject."""

    def __init__(self, scan: Callable[[], list[Drive]], listen: Listener, mounter: Mounter):
        self._scan = scan
        self._listen = listen
        self.mounter = mounter
        self._lock = threading.Lock()
        self._considered: list[Drive] = []
        self._subscribers: list[Subscriber] = []
        self._watcher: Watcher | None = None
        # the filesystem check of each listed stick, by drive id: True consistent, False needs a repair,
        # None could not be checked (udisks2 2.9 cannot check exFAT): not tried again while the stick stays,
        # but again before anything is written to it. A mounter without Check/Repair, the demo's, leaves
        # this empty and every stick as it is listed.
        self._health: dict[str, bool | None] = {}
        self._checking: set[str] = set()

    @classmethod
    def from_backend(cls, name: str, data_dir: Path, *, mountinfo: Path = Path("/proc/self/mountinfo"),
                     extra_system_paths: Iterable[str] = ()) -> DriveManager:
        """`demo` folders under data_dir/demo-drives, or real drives from udev mounted by `udisks2` or
        `mount`. The data directory's own disk always counts as a system disk."""
        data_dir = Path(data_dir)
        if name == "demo":
            return cls(lambda: scan_demo(data_dir), polling_listener(lambda: demo_signature(data_dir)),
                       DemoMounter())
        if name not in BACKENDS:
            raise ValueError(f"drives backend must be one of {', '.join(BACKENDS)}, not {name!r}")
        import pyudev

        from hardware import udev

        context = pyudev.Context()
        system_paths = [str(data_dir), *extra_system_paths]

        def scan() -> list[Drive]:
            return udev.scan(context, mountinfo=mountinfo, extra_system_paths=system_paths)

        if name == "udisks2":
            from hardware.udisks2 import Udisks2Mounter

            mounter: Mounter = Udisks2Mounter()
        else:
            mounter = DirectMounter(data_dir / "mnt", mountinfo=mountinfo)
        return cls(scan, udev_listener(context), mounter)

    # --- the live list -------------------------------------------------------------------------------

    def start(self) -> None:
        """Enumerate, then watch in a background thread. Idempotent; no thread before this call."""
        with self._lock:
            if self._watcher is not None:
                return
            self._watcher = Watcher(self._scan, self._listen, self._update)
        # listen first, then enumerate: a stick plugged in between is seen by one or the other
        self._watcher.start()
        self._update(self._scan())

    def is_alive(self) -> bool:
        """The watcher thread runs (the systemd watchdog stops pinging when it has died)."""
        with self._lock:
            return self._watcher is not None and self._watcher.is_alive()

    def stop(self) -> None:
        with self._lock:
            watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()

    def considered(self) -> list[Drive]:
        """Every block device the kiosk looked at, with its reason (for `kiosk drives`)."""
        with self._lock:
            return list(self._considered)

    def drives(self) -> list[Drive]:
        """What the customer's screen lists: eligible drives and unusable ones with their reason. Empty
        card readers, partitioned disks' containers, non-USB and system disks are never shown."""
        return [drive for drive in self.considered() if drive.listed]

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """`callback(drives())` after each debounced change, from the watcher thread: it must not block."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def refresh(self) -> None:
        """Rescan now (after an eject, or when a caller knows something changed)."""
        self._update(self._scan())

    def _update(self, scanned: list[Drive]) -> None:
        """Take a fresh scan: remember it (a stick found inconsistent keeps its reason), start checking the
        filesystems of sticks not checked yet, and tell the subscribers when the listed drives changed."""
        with self._lock:
            before = _listed(self._considered)
            self._considered = self._with_health(scanned)
            after = _listed(self._considered)
            unchecked = self._claim_unchecked(self._considered)
            subscribers = list(self._subscribers)
        self._start_checks(unchecked)
        if before == after:
            return
        self._log_changes(before, after)
        _notify(subscribers, list(after.values()))

    def _with_health(self, scanned: list[Drive]) -> list[Drive]:
        """The scan with what the checks found (under the lock): a stick that left forgets its verdict, an
        inconsistent one is listed as needing a repair."""
        present = {drive.id for drive in scanned}
        self._health = {key: value for key, value in self._health.items() if key in present}
        return [with_reason(drive, "needs_repair") if self._health.get(drive.id) is False and drive.eligible
                else drive for drive in scanned]

    def _claim_unchecked(self, considered: list[Drive]) -> list[Drive]:
        """The sticks to check now (under the lock), marked as being checked so no other scan starts one."""
        unchecked = [drive for drive in considered if self._checkable(drive)
                     and drive.id not in self._health and drive.id not in self._checking]
        self._checking.update(drive.id for drive in unchecked)
        return unchecked

    def _start_checks(self, unchecked: list[Drive]) -> None:
        for drive in unchecked:  # never on the watcher's thread: fsck takes a while
            threading.Thread(target=self._check_then_refresh, args=(drive,), daemon=True,
                             name=f"fsck-{drive.id}").start()

    @staticmethod
    def _log_changes(before: dict[str, Drive], after: dict[str, Drive]) -> None:
        for drive_id in after.keys() - before.keys():
            drive = after[drive_id]
            event("drive.added", device=drive.device, id=drive.id, fs_type=drive.fs_type or "none",
                  eligible=str(drive.eligible).lower(), reason=drive.reason)
        for drive_id in before.keys() - after.keys():
            event("drive.removed", device=before[drive_id].device, id=drive_id)

    # --- the filesystem's health ---------------------------------------------------------------------

    def _checkable(self, drive: Drive) -> bool:
        return (hasattr(self.mounter, "check") and drive.fs_type in WRITABLE_FILESYSTEMS
                and (drive.eligible or drive.reason == "needs_repair"))

    def _check(self, drive: Drive) -> bool | None:
        """Run the mounter's filesystem check (unmounted); remember and log the verdict. None: could not."""
        try:
            consistent = bool(self.mounter.check(drive))
        except DriveError as exc:
            event("drive.check_failed", logging.WARNING, device=drive.device, id=drive.id, code=exc.code,
                  detail=str(exc))
            with self._lock:
                self._health[drive.id] = None
            return None
        finally:
            with self._lock:
                self._checking.discard(drive.id)
        with self._lock:
            self._health[drive.id] = consistent
        event("drive.checked", logging.INFO if consistent else logging.WARNING, device=drive.device, id=drive.id,
              fs_type=drive.fs_type, consistent=str(consistent).lower())
        return consistent

    def _check_then_refresh(self, drive: Drive) -> None:
        if self._check(drive) is False:
            self.refresh()

    def _refuse_unchecked(self, drive: Drive) -> None:
        """Before writing: a stick not yet checked is checked now; one that needs a repair is refused."""
        if not self._checkable(drive):
            return
        deadline = time.monotonic() + 300
        while True:  # a check already under way (started when the stick was listed) is waited for
            with self._lock:
                known, running = self._health.get(drive.id), drive.id in self._checking
                if known is None and not running:
                    self._checking.add(drive.id)
            if known is not None or not running or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if known is None:
            known = self._check(drive)
        if known is False:
            self.refresh()
            raise NeedsRepair(f"{drive.device}: the filesystem needs a repair before anything is written",
                              device=drive.device)

    def repair(self, drive_id: str, passes: int = 3) -> bool:
        """Filesystem.Repair (fsck -a / -y) of a listed stick, then check it again, up to `passes` times
        (fsck.fat sometimes finds on a second pass what its first repair left): True when it is consistent
        now. Raises a `DriveError` (not a stick that can be repaired, the repair failed)."""
        drive = self.find(drive_id)
        if not self._checkable(drive):
            raise UnsupportedFilesystem(f"{drive.device} is not a stick the kiosk repairs ({drive.reason})",
                                        device=drive.device)
        consistent: bool | None = False
        for attempt in range(1, passes + 1):
            try:
                self.mounter.repair(drive)
            except DriveError as exc:
                exc = self._removed_if_gone(drive, exc, wait=1.0)
                event("drive.repair_failed", logging.WARNING, device=drive.device, id=drive.id, code=exc.code,
                      detail=str(exc))
                raise exc from exc.__cause__
            consistent = self._check(drive)
            event("drive.repaired", device=drive.device, id=drive.id, attempt=attempt,
                  consistent=str(bool(consistent)).lower())
            if consistent is not False:
                break
        self.refresh()
        return bool(consistent)

    # --- the verbs -----------------------------------------------------------------------------------

    def find(self, drive_id: str) -> Drive:
        """The listed drive with this id, as last seen; DriveRemoved when it is no longer there."""
        for drive in self.drives():
            if drive.id == drive_id:
                return drive
        raise DriveRemoved(f"no drive {drive_id!r} is inserted")

    def deliver(self, drive_id: str, files: Iterable[tuple[str, bytes]], folder: str,
                keep_backup: bool = False) -> DeliveryResult:
        """Mount, check free space, write durably, verify past the page cache. Raises a `DriveError`.

        `folder` is the bundle's folder relative to the drive root, and `files` lie directly in it."""
        drive = self.find(drive_id)
        try:
            self._refuse_ineligible(drive)
            self._refuse_unchecked(drive)
            volume = self._mount_for_writing(drive)
            written = write_bundle(volume.root, files, folder, keep_backup=keep_backup,
                                   free_bytes=volume.free_bytes, device=drive.device)
        except DriveError as exc:
            exc = self._removed_if_gone(drive, exc)
            event("drive.write_failed", logging.WARNING, device=drive.device, id=drive.id, code=exc.code,
                  detail=str(exc))
            raise exc from exc.__cause__
        event("drive.verified", device=drive.device, id=drive.id, bytes=written.bytes_written,
              backup=str(keep_backup).lower())
        return DeliveryResult(drive.serial, written.path, written.bytes_written)

    # what a stick pulled mid-write looks like to the writer on a real kernel: EIO from the write or the
    # fsync, a failed mount or verify; the device node goes a moment later (issue 28)
    _MAYBE_PULLED = ("write_failed", "verify_failed", "mount_failed", "drive_error")

    def _removed_if_gone(self, drive: Drive, error: DriveError, wait: float = 3.0) -> DriveError:
        """`error` as `DriveRemoved` when the drive has left the system's list by now (within `wait` s)."""
        if error.code not in self._MAYBE_PULLED:
            return error
        deadline = time.monotonic() + wait
        while True:
            try:
                present = any(seen.id == drive.id for seen in self._scan() if seen.listed)
            except Exception:  # noqa: BLE001 - a failing rescan must not hide the write's own error
                return error
            if not present:
                removed = DriveRemoved(f"the drive went away while it was written: {error}", device=drive.device)
                removed.__cause__ = error
                return removed
            if time.monotonic() >= deadline:
                return error
            time.sleep(0.25)

    def _mount_for_writing(self, drive: Drive):
        try:
            volume = self.mounter.mount(drive)
        except OSError as exc:  # the mount point vanished under the mounter (a stick pulled just now)
            raise from_os_error(exc, device=drive.device, root_exists=False) from exc
        if volume.read_only:
            raise ReadOnlyDrive("mounted read-only", device=drive.device)
        if isinstance(volume.root, Path) and volume.root.is_absolute() and mounted_read_only(volume.root):
            # asked read-write, mounted read-only: a write-protected medium, or a filesystem the kernel
            # found broken (FAT and exFAT go read-only on errors): nothing is written either way
            raise ReadOnlyDrive(f"{drive.device}: mounted read-only at {volume.root}", device=drive.device)
        return volume

    @staticmethod
    def _refuse_ineligible(drive: Drive) -> None:
        if drive.eligible:
            return
        if drive.reason == "needs_repair":
            raise NeedsRepair(drive.reason_description, device=drive.device)
        if drive.reason == "read_only":
            raise ReadOnlyDrive(drive.reason_description, device=drive.device)
        if drive.reason in ("unsupported_fs", "no_filesystem"):
            raise UnsupportedFilesystem(drive.reason_description, device=drive.device)
        raise UnsafePath(f"{drive.device} is not a drive the kiosk writes to ({drive.reason})",
                         device=drive.device)

    def remove_certificate(self, drive_id: str, folder: str, belongs: Callable[[bytes], bool]) -> bool:
        """Take one certificate's folder off the stick (see hardware.write.remove_bundle): the one a
        reissue or renewal replaced, once its successor is verified, or an expired one the customer chose
        to delete. Raises a `DriveError`; True when something was removed."""
        drive = self.find(drive_id)
        self._refuse_ineligible(drive)
        self._refuse_unchecked(drive)
        volume = self._mount_for_writing(drive)
        removed = remove_bundle(volume.root, folder, belongs, device=drive.device)
        if removed:
            event("drive.certificate_removed", device=drive.device, id=drive.id)
        return removed

    def read_certificates(self, drive_id: str, with_keys: bool = False) -> StickContents:
        """Mount read-only, read every certificate folder (and with `with_keys` its encrypted key file),
        unmount. Write-protected sticks can be read too; a stick whose filesystem the kiosk cannot mount
        cannot. Raises a `DriveError`."""
        drive = self.find(drive_id)
        self._refuse_unmountable(drive)
        try:
            volume = self.mounter.mount(drive, read_only=True)
            try:
                contents = read_certificate_folders(volume.root, with_keys)
            finally:
                self.mounter.unmount(drive)
        except DriveError as exc:
            event("drive.read_failed", logging.WARNING, device=drive.device, id=drive.id, code=exc.code,
                  detail=str(exc))
            raise
        event("drive.read", device=drive.device, id=drive.id, folders=len(contents.folders),
              truncated=str(contents.truncated).lower())
        return contents

    def mount_read_only(self, drive_id: str) -> Path:
        """Mount read-only and leave it so until `release`: for a reader outside the kiosk's process (the
        system updater reads a bundle from a technician's stick). Raises a `DriveError`."""
        drive = self.find(drive_id)
        self._refuse_unmountable(drive)
        return self.mounter.mount(drive, read_only=True).root

    @staticmethod
    def _refuse_unmountable(drive: Drive) -> None:
        if drive.reason in ("unsupported_fs", "no_filesystem"):
            raise UnsupportedFilesystem(drive.reason_description, device=drive.device)

    def release(self, drive_id: str) -> None:
        """Flush and unmount, leaving the stick in and powered (the customer is still at the screen)."""
        drive = self.find(drive_id)
        try:
            os.sync()
            self.mounter.unmount(drive)
        except OSError as exc:
            raise from_os_error(exc, device=drive.device, root_exists=False) from exc

    def eject(self, drive_id: str) -> None:
        """Flush, unmount and power off; when this returns the customer may pull the stick out."""
        drive = self.find(drive_id)
        try:
            os.sync()
            self.mounter.unmount(drive)
            self.mounter.power_off(drive)
        except DriveError as exc:
            event("drive.eject_failed", logging.WARNING, device=drive.device, id=drive.id, code=exc.code,
                  detail=str(exc))
            raise
        except OSError as exc:
            error = from_os_error(exc, device=drive.device, root_exists=False)
            event("drive.eject_failed", logging.WARNING, device=drive.device, id=drive.id, code=error.code,
                  detail=str(exc))
            raise error from exc
        event("drive.ejected", device=drive.device, id=drive.id)
        self.refresh()


def _listed(considered: list[Drive]) -> dict[str, Drive]:
    """What the customer's screen shows of a scan, by drive id."""
    return {drive.id: drive for drive in considered if drive.listed}


def _notify(subscribers: list[Subscriber], listed: list[Drive]) -> None:
    for callback in subscribers:
        try:
            callback(listed)
        except Exception:  # noqa: BLE001 - one broken subscriber must not stop drive watching; logged
            LOGGER.exception("drive.subscriber_failed subscriber=%r", callback)

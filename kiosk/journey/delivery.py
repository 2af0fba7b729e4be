"""Getting what a service made onto a stick: the drive step and the issuing worker.

The view picks a drive (`choose_drive`) and starts the worker (`start_issuing`); renewal and a password
change write back to the stick the certificate came from, so `start_writing_back` takes that drive for the
customer and starts the worker. The worker, one thread per visit, does:

1. For a copy, read the target stick first: a certificate of the same folder name there would be
   replaced, so nothing is written and the drive step asks the customer (`replace_question`).
2. Prepare, once per visit: the CA signs a new certificate, or the customer's own is re-protected with
   the new password, or copied as it is.
3. Write and verify (hardware.write): a failure sends the customer back to the drive list with the same
   certificate, to try another stick.
4. Record the delivery (a renewal or reissue revokes its predecessor now); remove the replaced
   certificate's folder from that stick; eject.

Ending a visit (`finish`) waits for a write under way, and revokes a signed certificate that never
reached a stick.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hardware import DeliveryResult, DriveError, DriveManager
from kiosk import logs
from kiosk.journey.answer import OK, Answer, Outcome
from kiosk.journey.machine import Service, Step
from kiosk.journey.record import Record
from kiosk.journey.visit import IssuingRun
from kiosk.pki.ca import Predecessor
from kiosk.pki.errors import PkiError
from kiosk.pki.inspection import CertificateOnStick, Status
from kiosk.pki.issuance import Applicant, IssuanceService, PreparedCertificate

if TYPE_CHECKING:
    from kiosk.journey.visit import Visit

# how long ending a visit waits for a write already under way (a real stick takes seconds; a wedged one
# is abandoned: the write undoes itself when the stick errors, and the certificate is revoked)
WRITE_WAIT_SECONDS = 120.0


class CertificateChanged(Exception):
    """Another session is writing this certificate's folder, or wrote it since this visit read it: the
    loser of two password changes at once is told, and writes nothing (issue 26, item 8)."""

    code = "certificate_changed"


class FolderWriters:
    """One writer per certificate folder, in this process: a password change `claim`s the folder with the
    key file it opened, and is refused while another visit holds the folder, or once another visit has
    replaced that very key file (its hash is remembered: the stick need not be read again)."""

    REMEMBERED = 1024  # replaced key files remembered; far more than one kiosk's day of password changes

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[tuple[str, str]] = set()
        self._replaced: OrderedDict[bytes, None] = OrderedDict()

    @staticmethod
    def _keys(drive_id: str, folder: str, key_file: bytes) -> tuple[tuple[str, str], bytes]:
        return (drive_id, unicodedata.normalize("NFC", folder)), hashlib.sha256(key_file).digest()

    def claim(self, drive_id: str, folder: str, key_file: bytes) -> bool:
        place, key = self._keys(drive_id, folder, key_file)
        with self._lock:
            if place in self._held or key in self._replaced:
                return False
            self._held.add(place)
            return True

    def release(self, drive_id: str, folder: str, key_file: bytes, written: bool) -> None:
        place, key = self._keys(drive_id, folder, key_file)
        with self._lock:
            self._held.discard(place)
            if written:
                self._replaced[key] = None
                while len(self._replaced) > self.REMEMBERED:
                    self._replaced.popitem(last=False)


@dataclass
class Delivery:
    issuance: IssuanceService
    drives: DriveManager | None
    record: Record
    # called on the issuing worker's own thread as it ends: the store opens one SQLite connection per
    # thread, and a thread per issuance left one connection (two descriptors, its page cache) behind
    # every customer (bench/soak.py)
    release_thread: Callable[[], None] = lambda: None
    folder_writers: FolderWriters = field(default_factory=FolderWriters)

    # --- the drive step --------------------------------------------------------------------------------

    def choose_drive(self, visit: Visit, drive_id: str, replace: bool = False) -> Answer:
        """Take the drive for this visit's bundle; NOT_USABLE when it is not (or no longer) an eligible
        drive, or not one this service may write to (`reason`: `drive_refusal`'s, else "pick_drive").
        `replace` is the customer's yes to the question a copy asked about this very stick."""
        drive = {d.id: d for d in self.drives.drives()}.get(drive_id) if self.drives else None
        refusal = self.drive_refusal(visit, drive_id)
        if drive is None or not drive.eligible or refusal:
            return Answer(Outcome.NOT_USABLE, reason=refusal or "pick_drive")
        with visit.lock:
            visit.journey.require(Step.DRIVE)
            asked = visit.run.replacing if visit.run is not None and visit.drive_id == drive_id else None
            visit.replace_agreed = (drive_id, asked.serial) if replace and asked is not None else None
            visit.drive_id = drive_id
            visit.run = IssuingRun()
            self.record.complete(visit, Step.DRIVE)
        return OK

    @staticmethod
    def decline_replace(visit: Visit) -> None:
        """아니요 to the copy's question: back to the drive list, nothing written, the question gone."""
        with visit.lock:
            if visit.run is not None and visit.run.replacing is not None:
                visit.run = None

    @staticmethod
    def drive_refusal(visit: Visit, drive_id: str) -> str | None:
        """Why this service may not write to that stick: a copy goes to another stick than its source
        (`same_drive`), a new password back to the source (`other_drive`)."""
        service, source_drive = visit.journey.service, visit.stick.drive_id if visit.stick else None
        if service is Service.COPY and drive_id == source_drive:
            return "same_drive"
        if service is Service.CHANGE_PASSWORD and drive_id != source_drive:
            return "other_drive"
        return None

    @staticmethod
    def replace_question(visit: Visit) -> list[CertificateOnStick] | None:
        """What the drive step compares when a copy asked before replacing: the certificate being copied
        and the one it would replace, the later expiry first; None when nothing was asked."""
        run = visit.run
        if run is None or run.replacing is None:
            return None
        both = [cert for cert in (visit.source, run.replacing) if cert]
        return sorted(both, key=lambda cert: cert.not_after.timestamp() if cert.not_after else 0, reverse=True)

    # --- starting the worker ---------------------------------------------------------------------------

    def start_writing_back(self, visit: Visit) -> bool:
        """Renewal and a password change write back to the stick the certificate came from: when the
        customer is at the drive step of one of them, that stick is taken for them and the worker starts
        (True). Otherwise nothing happens: the customer picks a drive."""
        if visit.journey.current is not Step.DRIVE or visit.journey.service not in (
                Service.RENEW, Service.CHANGE_PASSWORD):
            return False
        if not self.choose_drive(visit, visit.stick.drive_id).ok:
            return False
        self.start_issuing(visit)
        return True

    def start_issuing(self, visit: Visit) -> None:
        """The pipeline runs in a worker thread of its own; the issuing screen polls `visit.run`."""
        visit.worker = threading.Thread(target=self.issue_and_deliver, args=(visit,), name="issuing",
                                        daemon=True)
        visit.worker.start()

    # --- the issuing pipeline (the worker's thread) ----------------------------------------------------

    def issue_and_deliver(self, visit: Visit) -> None:
        """The numbered procedure of the module's docstring, on the worker's thread. A failure is told on
        `visit.run.error` and sends the customer back to the drive list."""
        run = visit.run
        try:
            self._deliver(visit, run)
        except DriveError as exc:
            self._failed(visit, run, exc.code)
            self.record.metrics.drive_errors.labels("write", exc.code).inc()
            logs.warning("drive.write_failed", reason=exc.code, detail=str(exc))
        except CertificateChanged as exc:
            self._failed(visit, run, exc.code)
            logs.warning("source.changed_meanwhile", reason=str(exc))
        except PkiError as exc:
            self._failed(visit, run, exc.code)  # issuance_failed, or ca_unreachable/ca_rejected/...
            logs.error("issue.failed", reason=type(exc).__name__, detail=str(exc))
        except sqlite3.OperationalError as exc:
            # the database locked past its busy timeout: without this the worker died, the run read
            # "finished" with no error, and the customer bounced between the drive and issuing steps
            self._failed(visit, run, "issuance_failed", reason="database")
            logs.error("issue.failed", reason="database", detail=str(exc))
        except Exception as exc:  # noqa: BLE001 - the thread's edge: a bug is logged with its traceback
            self._failed(visit, run, "issuance_failed", reason="crashed")
            logs.error("issue.crashed", exc_info=True, error=type(exc).__name__)
        finally:
            self.release_thread()
            run.finished = True

    def _deliver(self, visit: Visit, run: IssuingRun) -> None:
        if self._asks_before_replacing(visit, run):
            return
        self.record.metrics.issuances_started.labels(visit.journey.service.value).inc()
        self._prepare(visit, run)
        with visit.lock:
            if visit.ended:  # the customer left while the CA signed: nothing reaches a drive
                self.issuance.abandon(visit.prepared.serial)
                return
            run.mark("write", "active")  # from here on, ending the visit waits for the write
        prepared = visit.prepared
        result = self._write(visit, prepared)
        run.mark("write", "done")
        run.mark("verify", "done")
        self._delivered(visit, prepared, result.drive_serial)
        visit.password = ""
        self._remove_replaced(visit)
        self._eject(visit, run)
        with visit.lock:
            if not visit.ended:
                self.record.complete(visit, Step.ISSUING)

    def _asks_before_replacing(self, visit: Visit, run: IssuingRun) -> bool:
        """인증서 복사 onto a stick that holds another certificate in a folder of the same name would replace
        it: nothing is written, and the drive step asks the customer first, showing both (issue 26, item
        6). Read here, in the worker and as part of the write stage, so that a stick that hangs or is
        pulled holds up this thread and never the customer's request."""
        if visit.journey.service is not Service.COPY or visit.source is None:
            return False
        run.mark("write", "active")
        try:
            other = self._certificate_replaced_by_copy(visit)
        except DriveError as exc:  # the write that follows finds out too, and tells the customer
            logs.warning("copy.target_unreadable", error=exc.code)
            other = None
        run.mark("write", "waiting")
        if other is None or visit.replace_agreed == (visit.drive_id, other.serial):
            return False
        run.replacing = other
        logs.event("copy.asked_to_replace", replaced=other.serial[:40])
        with visit.lock:
            if not visit.ended:
                visit.journey.reopen(Step.DRIVE)
        return True

    def _certificate_replaced_by_copy(self, visit: Visit) -> CertificateOnStick | None:
        """The certificate on the target stick in a folder of the copy's name (compared as the filesystem
        does), when losing it would matter: not the very certificate being copied, and one still valid
        or not ours (expired, revoked and damaged ones go without a question)."""
        folder = unicodedata.normalize("NFC", visit.source.folder)
        contents = self.drives.read_certificates(visit.drive_id, with_keys=False)
        for cert in self.issuance.inspect(contents.folders):
            if (unicodedata.normalize("NFC", cert.folder) == folder and cert.serial != visit.source.serial
                    and cert.status in (Status.VALID, Status.EXPIRING, Status.NOT_OURS)):
                return cert
        return None

    def _write(self, visit: Visit, prepared: PreparedCertificate) -> DeliveryResult:
        """Deliver the bundle. A new password goes back into the folder it was read from: one visit at a
        time writes that folder, and never over a key file another visit has replaced meanwhile."""
        files, folder = prepared.bundle.files, prepared.bundle.folder
        if visit.journey.service is not Service.CHANGE_PASSWORD:
            return self.drives.deliver(visit.drive_id, files, folder,
                                       keep_backup=visit.journey.service is Service.REISSUE)
        key_file = visit.source.held.key_file
        if not self.folder_writers.claim(visit.drive_id, folder, key_file):
            raise CertificateChanged("another session is changing, or has changed, this certificate")
        written = False
        try:
            result = self.drives.deliver(visit.drive_id, files, folder)
            written = True
            return result
        finally:
            self.folder_writers.release(visit.drive_id, folder, key_file, written)

    def _prepare(self, visit: Visit, run: IssuingRun) -> None:
        if visit.prepared is not None:
            run.mark("prepare", "done")
            return
        run.mark("prepare", "active")
        visit.prepared = self._made(visit)
        run.mark("prepare", "done")

    def _made(self, visit: Visit) -> PreparedCertificate:
        """What this service writes: a certificate the CA signs, or the customer's own one re-protected
        with the new password, or copied as it is."""
        service = visit.journey.service
        if service is Service.CHANGE_PASSWORD:
            return visit.source.held.protected_with(visit.opened, visit.password)
        if service is Service.COPY:
            return visit.source.held.copied()
        customer = visit.customer
        applicant = Applicant(name=customer.name, english_name=customer.english_name,
                              rrn=visit.rrn, customer_key=customer.customer_key)
        predecessor = Predecessor(visit.source.held.certificate, visit.opened.key) if visit.renews else None
        return self.issuance.prepare(applicant, visit.password, replaces=visit.replaces,
                                     renews=visit.renews, predecessor=predecessor)

    def _delivered(self, visit: Visit, prepared: PreparedCertificate, drive_serial: str) -> None:
        """The bundle is verified on the stick: record it (a renewal or reissue revokes its predecessor
        now) and audit it."""
        service = visit.journey.service.value
        visit.delivered_serial = prepared.serial
        if visit.journey.service.signs:
            self.issuance.mark_delivered(prepared.serial, drive_serial)
            replaced = visit.replaces or visit.renews or ""
            self.record.customer("certificate.delivered", prepared.serial,
                                 f"customer={visit.customer.customer_key} replaces={replaced}", service=service)
        else:
            action = "certificate.copied" if service == Service.COPY.value else "certificate.password_changed"
            self.record.customer(action, prepared.serial, f"drive={drive_serial}")
            self.record.metrics.issuances_completed.labels(service).inc()  # no audit pair: not a 발급
        logs.event("issue.completed", serial=prepared.serial, service=service)

    def _remove_replaced(self, visit: Visit) -> None:
        """A reissue: the replaced (now revoked) certificate's folder leaves the stick the new one is on,
        so the customer's banking software lists one certificate, not two. The new bundle is verified
        already; a failure here is logged and the customer keeps what they came for."""
        old = visit.replaces or visit.renews
        if old is None:
            return
        on_this_stick = visit.source is not None and visit.stick.drive_id == visit.drive_id
        folder = visit.source.folder if on_this_stick else self.issuance.bundle_folder_of(old)
        try:
            removed = self.drives.remove_certificate(
                visit.drive_id, folder, lambda der: self.issuance.is_certificate(old, der))
        except (DriveError, ValueError) as exc:
            logs.warning("issue.replaced_not_removed", serial=old, reason=getattr(exc, "code", "unsafe_name"))
            return
        if removed:
            logs.event("issue.replaced_removed", serial=old)

    def _eject(self, visit: Visit, run: IssuingRun) -> None:
        run.mark("eject", "active")
        try:
            self.drives.eject(visit.drive_id)
            self.record.metrics.drive_events.labels("ejected").inc()
            run.ejected = True
            run.mark("eject", "done")
        except DriveError as exc:
            # the bundle is verified already: the customer keeps it; staff can help with the drive
            run.mark("eject", "failed")
            self.record.metrics.drive_errors.labels("eject", exc.code).inc()
            logs.warning("drive.eject_failed", reason=exc.code)

    def _failed(self, visit: Visit, run: IssuingRun, code: str, reason: str | None = None) -> None:
        """Back to the drive list; the prepared certificate (if any) is written again next time. `code`
        is what the customer is told, `reason` (default: the code) what the fleet counts."""
        run.error = code
        self.record.metrics.issuances_failed.labels(visit.journey.service.value, reason or code).inc()
        for stage, state in run.stages.items():
            if state == "active":
                run.mark(stage, "failed")
        with visit.lock:
            if not visit.ended:
                visit.journey.reopen(Step.DRIVE)

    # --- the visit's end -------------------------------------------------------------------------------

    def finish(self, visit: Visit) -> None:
        """The visit ends: a write under way is let finish, so the stick never keeps a revoked
        certificate; a signed certificate that never reached a drive is revoked."""
        self._wait_for_write(visit)
        self._abandon(visit)

    @staticmethod
    def _wait_for_write(visit: Visit) -> None:
        with visit.lock:
            visit.ended = True
            writing = visit.run is not None and visit.run.writing
        if writing and visit.worker is not None:
            logs.event("session.reset_waits_for_write", drive=visit.drive_id)
            visit.worker.join(WRITE_WAIT_SECONDS)
            if visit.worker.is_alive():
                logs.error("session.write_still_running", drive=visit.drive_id)

    def _abandon(self, visit: Visit) -> None:
        """A pipeline still preparing sees `ended` and revokes what it signs after this point itself."""
        signed = visit.journey.service is not None and visit.journey.service.signs
        if signed and visit.prepared is not None and visit.delivered_serial is None:
            self.issuance.abandon(visit.prepared.serial)
            logs.warning("issue.abandoned", serial=visit.prepared.serial)
            self.record.customer("certificate.revoked", visit.prepared.serial, "reason=cessationOfOperation",
                                 when="session_end")

"""The stick the customer brought, and the certificates on it: what 내 인증서 확인 reads and deletes from,
and where renewal (갱신), a password change (비밀번호 변경) and a copy (인증서 복사) start.

A read gives one `Stick`: the drive it came from and one `CertificateOnStick` per certificate folder,
judged against this kiosk's registry and CRL and, when readable, carrying its files (kiosk.pki.held).
The steps here read and judge; what is written back is kiosk.journey.delivery's.

    check:   read (no keys) → show each → delete an expired or revoked one, after a yes → read again
    source:  read (keys in memory) → why each can or cannot start the service → choose one and open its
             key with the password the customer types (counted on that certificate's lock)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hardware import DriveError, DriveManager
from kiosk import logs
from kiosk.identity.lockouts import Lockouts
from kiosk.journey.answer import OK, Answer, Outcome
from kiosk.journey.machine import Service, Step
from kiosk.journey.record import Record
from kiosk.pki.errors import KeyFileError, KeyMismatch, WrongPassword
from kiosk.pki.held import HeldCertificate, with_files
from kiosk.pki.inspection import CertificateOnStick, Status
from kiosk.pki.issuance import IssuanceService
from kiosk.pki.password import unmet_rules

if TYPE_CHECKING:  # a visit holds a Stick
    from kiosk.journey.visit import Visit


@dataclass(frozen=True)
class Stick:
    """What one read of a customer's stick found. `truncated`: it holds more folders than are read."""

    drive_id: str
    certificates: list[CertificateOnStick]
    truncated: bool = False

    def find(self, folder: str) -> CertificateOnStick | None:
        """The certificate in `folder`, for a name a form sent back: the same name, else the one equal to
        it in NFC, as FAT/exFAT readers and macOS compare names (a Mac writes Hangul in NFD, and the forms
        read every field in NFC: issue 26, item 5). Its `folder` is the stick's own spelling, written to."""
        exact = next((cert for cert in self.certificates if cert.folder == folder), None)
        if exact is not None:
            return exact
        wanted = unicodedata.normalize("NFC", folder)
        return next((cert for cert in self.certificates if unicodedata.normalize("NFC", cert.folder) == wanted),
                    None)


@dataclass
class StickSteps:
    issuance: IssuanceService
    drives: DriveManager | None
    record: Record
    certificate_tries: Lockouts | None = None  # wrong certificate passwords, counted per certificate

    def read(self, drive_id: str, with_keys: bool) -> Stick:
        """Raises DriveError (counted here: every read of a customer's stick goes through this)."""
        try:
            contents = self.drives.read_certificates(drive_id, with_keys=with_keys)
        except DriveError as exc:
            self.record.metrics.drive_errors.labels("read", exc.code).inc()
            raise
        certificates = with_files(self.issuance.inspect(contents.folders), contents.folders)
        return Stick(drive_id, certificates, contents.truncated)

    # --- 내 인증서 확인 --------------------------------------------------------------------------------

    def check(self, visit: Visit, drive_id: str) -> Answer:
        """Read every certificate on the stick (nothing is written) and judge each; the stick stays in,
        unmounted. DRIVE_FAILED with the drive's reason when it cannot be read."""
        visit.journey.require(Step.CHECK)
        try:
            visit.stick = self.read(drive_id, with_keys=False)
        except DriveError as exc:
            return Answer(Outcome.DRIVE_FAILED, reason=exc.code)
        logs.event("check.read", certificates=len(visit.stick.certificates),
                   truncated=str(visit.stick.truncated).lower())
        return OK

    @staticmethod
    def deletable(visit: Visit, folder: str) -> bool:
        """The check screen offers to delete only what can no longer be used: expired or revoked."""
        cert = visit.stick.find(folder) if visit.stick else None
        return cert is not None and cert.held is not None and cert.status in (Status.EXPIRED, Status.REVOKED)

    def delete(self, visit: Visit, folder: str) -> Answer:
        """Take an expired or revoked certificate off the customer's stick, after they confirmed; only if
        the folder still holds the very certificate the screen showed. The stick is read again after.
        NOT_FOUND when there was nothing to delete; DRIVE_FAILED (a write-protected stick, say)."""
        visit.journey.require(Step.CHECK)
        if not self.deletable(visit, folder):
            return Answer(Outcome.NOT_FOUND)
        cert, drive_id = visit.stick.find(folder), visit.stick.drive_id
        try:
            removed = self.drives.remove_certificate(drive_id, cert.folder,
                                                     lambda der: der == cert.held.certificate_der)
        except DriveError as exc:
            self.record.metrics.drive_errors.labels("delete", exc.code).inc()
            return Answer(Outcome.DRIVE_FAILED, reason=exc.code)
        finally:
            self._release(drive_id)
        logs.event("check.deleted", serial=cert.serial, removed=str(removed).lower())
        if removed:
            self.record.customer("certificate.deleted_from_stick", cert.serial)
        try:
            visit.stick = self.read(drive_id, with_keys=False)
        except DriveError as exc:
            return Answer(Outcome.DRIVE_FAILED, reason=exc.code)
        return OK if removed else Answer(Outcome.NOT_FOUND)

    def _release(self, drive_id: str) -> None:
        """Leave the stick as the check screen found it: unmounted, still in (a failure is the news of
        the call before, or the stick is gone)."""
        try:
            self.drives.release(drive_id)
        except DriveError as exc:
            logs.warning("drive.release_failed", reason=exc.code)

    # --- the certificate a service starts from: renew, change its password, copy ---------------------

    @staticmethod
    def forget(visit: Visit) -> None:
        """The customer wants another stick: what was read from this one is dropped."""
        visit.journey.require(Step.SOURCE)
        visit.stick, visit.opened = None, None

    def read_source(self, visit: Visit, drive_id: str) -> Answer:
        """Read the stick with the certificate this service starts from, key files included (they stay
        in this visit's memory). DRIVE_FAILED with the drive's reason when it cannot be read."""
        visit.journey.require(Step.SOURCE)
        try:
            visit.stick = self.read(drive_id, with_keys=True)
        except DriveError as exc:
            return Answer(Outcome.DRIVE_FAILED, reason=exc.code)
        logs.event("source.read", certificates=len(visit.stick.certificates), service=visit.journey.service.value)
        return OK

    def why_not_usable(self, visit: Visit, cert: CertificateOnStick) -> str | None:
        """None when `cert` (read at the source step) can start this service, else why not, in words the
        source screen turns into a sentence."""
        if cert.held is None or cert.status is Status.DAMAGED:
            return "damaged"
        if not cert.held.key_file:
            return "no_key"
        if cert.status in (Status.EXPIRED, Status.REVOKED):
            return cert.status.value
        if visit.journey.service is not Service.RENEW:
            return None
        record = self.issuance.find(cert.serial)
        if record is None or cert.status is Status.NOT_OURS:
            return "not_ours"
        if record.customer_key != visit.customer.customer_key:
            return "not_yours"
        return None if self.issuance.renewable(record) else "not_yet"

    def choose_source(self, visit: Visit, folder: str, password: str) -> Answer:
        """The customer picked a certificate and typed its current password: the key is opened in memory.
        Wrong passwords count towards a lock on that certificate; the stick is never touched. Nothing is
        written from here: for a renewal, `Delivery.start_writing_back` starts that."""
        visit.journey.require(Step.SOURCE)
        cert = visit.stick.find(folder) if visit.stick else None
        if cert is None or self.why_not_usable(visit, cert):
            return Answer(Outcome.NOT_USABLE, tries_left=0)
        renews = visit.journey.service is Service.RENEW
        if renews and unmet_rules(password):
            return Answer(Outcome.WEAK, tries_left=0)
        answer = self._unlock(visit, cert.held, password)
        if not answer.ok:
            return answer
        visit.source = cert
        if renews:
            visit.renews, visit.password = cert.serial, password
        self.record.complete(visit, Step.SOURCE)
        logs.event("source.unlocked", serial=cert.serial, service=visit.journey.service.value)
        return answer

    def _unlock(self, visit: Visit, held: HeldCertificate, password: str) -> Answer:
        """Open the key with `password`, counted on the certificate's lock (kiosk.pki.held.tries_key).
        A key file no password can open is DAMAGED and not counted; past that, a key that does not open
        and a key that opens but is not this certificate's are one answer, WRONG, and both count: two
        answers told a made-up certificate beside someone's key file whether the password was right."""
        tries, key = self.certificate_tries, held.tries_key
        try:
            held.check_key_file()
        except KeyFileError as exc:
            logs.warning("source.key_unreadable", serial=held.serial, error=type(exc).__name__)
            return Answer(Outcome.DAMAGED, tries_left=0)
        with tries.one_try_at_a_time(key):
            place = tries.reserve_try(key)
            if place is None:
                logs.warning("source.password_refused_locked", serial=held.serial)
                return Answer(Outcome.LOCKED, tries_left=0)
            try:
                visit.opened = held.unlock(password)
            except (WrongPassword, KeyFileError, KeyMismatch) as exc:
                return self._wrong_password(held, tries.record_wrong(key), exc)
            if not tries.settle_success(key, place):
                visit.opened = None
                return Answer(Outcome.LOCKED, tries_left=0)
        return Answer(Outcome.OK, tries_left=tries.limit)

    def _wrong_password(self, held: HeldCertificate, left: int, exc: Exception) -> Answer:
        logs.event("source.password_wrong", serial=held.serial, tries_left=left, error=type(exc).__name__)
        if left == 0:
            logs.warning("source.password_locked", serial=held.serial)
            self.record.customer("certificate.password_locked", held.serial)
            return Answer(Outcome.LOCKED, tries_left=0)
        return Answer(Outcome.WRONG, tries_left=left)

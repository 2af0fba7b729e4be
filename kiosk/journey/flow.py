"""The customer's journey as the kiosk runs it: built once at start-up (kiosk.wiring) with the ports it
calls, and given the customer's `Visit` on every call. Views parse a form and call one method here;
nothing here knows about HTTP. The flow owns the issuing worker: one thread per visit, started by
`start_issuing`, and waited for by `end_visit` while it writes to a stick.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

from cryptography import x509

from hardware import DriveError, DriveManager
from kiosk import logs
from kiosk.clock import Clock
from kiosk.identity import CodeSender, CustomerDirectory, IdentityServiceUnavailable
from kiosk.identity.lockouts import LockingAccounts, Lockouts
from kiosk.identity.ports import IdCardCheck, IdCheckOutcome
from kiosk.journey.email_code import CodeResult, EmailChallenge
from kiosk.journey.machine import Service, Step
from kiosk.journey.visit import IssuingRun, Visit
from kiosk.metrics import KioskMetrics
from kiosk.pki.ca import Predecessor
from kiosk.pki.errors import KeyFileError, KeyMismatch, PkiError, WrongPassword
from kiosk.pki.held import held_certificates
from kiosk.pki.inspection import Status
from kiosk.pki.issuance import Applicant, CertificateRecord, IssuanceService
from kiosk.pki.password import unmet_rules
from kiosk.store.audit import AuditLog

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


@dataclass(frozen=True)
class Revocation:
    """What 인증서 폐지 revoked, for the done screen's receipt line: `on_crl` when the CA's CRL, read back
    in the same visit, lists the serial (`crl_number`, `crl_time`: that CRL's number and thisUpdate)."""

    serial: str
    common_name: str
    issuer_name: str
    on_crl: bool
    crl_number: int | None
    crl_time: datetime | None


class Outcome(str, Enum):
    OK = "ok"
    NOT_FOUND = "not_found"
    LOCKED = "locked"
    WRONG = "wrong"
    UNAVAILABLE = "unavailable"
    NOT_USABLE = "not_usable"   # that certificate cannot start this service (see `why_not_usable`)
    DAMAGED = "damaged"         # its key file cannot be read, or belongs to another certificate
    WEAK = "weak"               # a renewal keeps the password, and this one fails today's rules
    ENDED = "ended"             # the visit ended (idle, staff) while the kiosk was busy for it
    ID_MISMATCH = "id_mismatch"         # the authenticity service does not know this card so
    ID_LOST = "id_lost"                 # ...knows it as reported lost or stolen
    ID_CHECK_UNAVAILABLE = "id_check_unavailable"   # ...did not answer


@dataclass
class CustomerFlow:
    directory: CustomerDirectory
    accounts: LockingAccounts
    code_sender: CodeSender
    issuance: IssuanceService
    drives: DriveManager | None
    audit: AuditLog | None
    clock: Clock
    certificate_tries: Lockouts | None = None  # wrong certificate passwords, counted per certificate
    id_check: IdCardCheck | None = None  # 신분증 진위확인 (None: not asked)
    metrics: KioskMetrics = field(default_factory=KioskMetrics)
    # called on the issuing worker's own thread as it ends: the store opens one SQLite connection per
    # thread, and a thread per issuance left one connection (two descriptors, its page cache) behind
    # every customer (bench/soak.py)
    release_thread: Callable[[], None] = lambda: None
    folder_writers: FolderWriters = field(default_factory=FolderWriters)

    def _audit(self, action: str, subject: str | None = None, detail: str = "", **labels: str) -> None:
        """One audit row and, for the actions the staff console counts, its counter (kiosk.metrics)."""
        if self.audit is not None:
            self.audit.record("customer", action, subject, detail)
        self.metrics.audited(action, **labels)

    def _complete(self, visit: Visit, step: Step) -> None:
        visit.journey.complete(step)
        self.metrics.steps_reached.labels(visit.journey.current.value).inc()

    # --- steps -----------------------------------------------------------------------------------

    def start(self) -> Visit:
        self.metrics.steps_reached.labels(Step.SERVICE.value).inc()
        return Visit()

    def choose_service(self, visit: Visit, service: Service) -> None:
        visit.journey.choose(service)
        self.metrics.steps_reached.labels(visit.journey.current.value).inc()
        logs.event("journey.started", service=service.value)

    def consent(self, visit: Visit) -> None:
        self._complete(visit, Step.CONSENT)

    def identify(self, visit: Visit, name: str, rrn: str, id_kind: str, issue_date: date,
                 licence_number: str = "", licence_serial: str = "", by: str = "keyboard") -> Outcome:
        """The directory finds the customer, then the authenticity service checks the card (a driver's
        licence typed without its number cannot be checked there: the directory's match stands alone).
        `by`: "camera" (a read card the customer confirmed) or "keyboard", for the log."""
        visit.journey.require(Step.IDENTITY)
        try:
            customer = self.directory.find(name, rrn, id_kind, issue_date)
        except IdentityServiceUnavailable as exc:
            logs.warning("identity.directory_unavailable", reason=str(exc))
            return Outcome.UNAVAILABLE
        if customer is None:
            logs.event("identity.not_matched", id_kind=id_kind)
            return Outcome.NOT_FOUND
        if self.accounts.is_locked(customer):
            logs.warning("identity.locked_customer", customer=customer.customer_key[:12])
            return Outcome.LOCKED
        if self.id_check is not None and (id_kind != "driver_license" or licence_number):
            checked = self._check_card(customer, id_kind, name, rrn, issue_date, licence_number, licence_serial)
            if checked is not Outcome.OK:
                return checked
        visit.customer, visit.rrn, visit.reading = customer, rrn, None
        self._complete(visit, Step.IDENTITY)
        logs.event("identity.matched", customer=customer.customer_key[:12], by=by)
        return Outcome.OK

    def _check_card(self, customer, id_kind, name, rrn, issue_date, licence_number, licence_serial) -> Outcome:
        """신분증 진위확인. A card the service does not know so, or knows as lost, counts as a failure
        towards the customer's lock, as a wrong PIN does (the same count: kiosk.identity.lockouts); the
        try is counted before the service is asked, so concurrent tries never pass the limit."""
        tries, key, who = self.accounts.lockouts, customer.customer_key, customer.customer_key[:12]
        with tries.one_try_at_a_time(key):
            place = tries.reserve_try(key)
            if place is None:
                logs.warning("identity.locked_customer", customer=who)
                return Outcome.LOCKED
            try:
                outcome = self.id_check.check(id_kind, name, rrn, issue_date, licence_number, licence_serial)
            except IdentityServiceUnavailable as exc:
                tries.release_try(key)
                logs.warning("identity.id_check_unavailable", reason=str(exc))
                return Outcome.ID_CHECK_UNAVAILABLE
            if outcome is IdCheckOutcome.MATCHES:
                if tries.settle_success(key, place):
                    logs.event("identity.id_check_matched", customer=who, id_kind=id_kind)
                    return Outcome.OK
                return Outcome.LOCKED
            failed = Outcome.ID_LOST if outcome is IdCheckOutcome.REPORTED_LOST else Outcome.ID_MISMATCH
            left = tries.record_wrong(key)
        logs.warning("identity.id_check_failed", customer=who, id_kind=id_kind, outcome=failed.value,
                     tries_left=left)
        self._audit("identity.id_check_failed", key, f"outcome={failed.value}")
        if left == 0:
            self._audit("customer.locked", key)
            return Outcome.LOCKED
        return failed

    def withdrawal_accounts(self, visit: Visit) -> list:
        """The customer's withdrawal accounts as the directory lists them (masked for the screen), asked
        once per visit; [] when it lists none or cannot answer now: the account number is typed then."""
        visit.journey.require(Step.ACCOUNT)
        if visit.accounts is None:
            try:
                visit.accounts = list(self.directory.accounts(visit.customer))
            except IdentityServiceUnavailable as exc:
                logs.warning("identity.account_list_unavailable", reason=str(exc))
                return []
            logs.event("identity.account_list", accounts=len(visit.accounts))
        return visit.accounts

    def verify_account(self, visit: Visit, account: str, pin: str):
        visit.journey.require(Step.ACCOUNT)
        try:
            check = self.accounts.verify(visit.customer, account, pin)
        except IdentityServiceUnavailable as exc:
            logs.warning("identity.accounts_unavailable", reason=str(exc))
            return Outcome.UNAVAILABLE, None
        customer = visit.customer.customer_key[:12]
        if check.ok:
            self._complete(visit, Step.ACCOUNT)
            logs.event("identity.account_verified", customer=customer)
            return Outcome.OK, check
        if check.locked and not check.checked:
            logs.warning("identity.account_refused_locked", customer=customer)
            return Outcome.LOCKED, check
        if check.locked:
            logs.warning("identity.account_locked", customer=customer)
            self._audit("customer.locked", visit.customer.customer_key)
            return Outcome.LOCKED, check
        logs.event("identity.account_failed", customer=customer, tries_left=check.tries_left)
        return Outcome.WRONG, check

    def send_code(self, visit: Visit, subject: str, body_template: str) -> Outcome:
        """Send the first code (or a resend: the caller checked `challenge.resend()` first). The send
        may take up to the sender's deadline; the visit may end meanwhile (idle, staff): then nothing of
        it is touched again and ENDED is returned (issue 26, item 9)."""
        with visit.lock:
            if visit.ended or visit.customer is None:
                return Outcome.ENDED
            if visit.challenge is None:
                visit.challenge = EmailChallenge(self.clock)
            challenge, email = visit.challenge, visit.customer.email
        try:
            self.code_sender.send(email, subject, body_template.format(code=challenge.code))
        except IdentityServiceUnavailable as exc:
            self.metrics.email_code_failures.inc()
            logs.warning("email.send_failed", reason=str(exc))
            with visit.lock:
                if visit.challenge is challenge and challenge.resends == 0:
                    visit.challenge = None  # nothing reached the customer: the next showing sends again
                return Outcome.ENDED if visit.ended else Outcome.UNAVAILABLE
        self.metrics.email_codes_sent.inc()
        logs.event("email.code_sent", email=email, resends=challenge.resends)
        return Outcome.ENDED if visit.ended else Outcome.OK

    def check_code(self, visit: Visit, typed: str) -> CodeResult:
        visit.journey.require(Step.EMAIL)
        result = visit.challenge.check(typed) if visit.challenge else CodeResult.EXPIRED
        if result is CodeResult.OK:
            visit.challenge.wipe()
            self._complete(visit, Step.EMAIL)
        logs.event("email.code_checked", result=result.value)
        return result

    def replaceable(self, visit: Visit) -> list[CertificateRecord]:
        """The customer's certificates a reissue may replace: delivered, and not being replaced by another
        session (the registry decides, issue 20)."""
        return self.issuance.replaceable(visit.customer.customer_key)

    def choose_replacement(self, visit: Visit, serial: str) -> bool:
        """False when `serial` is not one of the customer's replaceable certificates."""
        visit.journey.require(Step.REPLACE)
        if serial not in {r.serial for r in self.replaceable(visit)}:
            return False
        visit.replaces = serial
        self._complete(visit, Step.REPLACE)
        return True

    def set_password(self, visit: Visit, password: str) -> None:
        visit.journey.require(Step.PASSWORD)
        visit.password = password
        self._complete(visit, Step.PASSWORD)
        self.continue_on_source_stick(visit)

    def choose_drive(self, visit: Visit, drive_id: str, replace: bool = False) -> bool:
        """Take the drive for this visit's bundle; False when it is not (or no longer) an eligible drive,
        or not one this service may write to (`drive_refusal`). `replace` is the customer's yes to the
        question a copy asked about this very stick (`_asks_before_replacing`)."""
        drive = {d.id: d for d in self.drives.drives()}.get(drive_id) if self.drives else None
        if drive is None or not drive.eligible or self.drive_refusal(visit, drive_id):
            return False
        with visit.lock:
            visit.journey.require(Step.DRIVE)
            asked = visit.run.replacing if visit.run is not None and visit.drive_id == drive_id else None
            visit.replace_agreed = (drive_id, asked.serial) if replace and asked is not None else None
            visit.drive_id = drive_id
            visit.run = IssuingRun()
            self._complete(visit, Step.DRIVE)
        return True

    @staticmethod
    def decline_replace(visit: Visit) -> None:
        """아니요 to the copy's question: back to the drive list, nothing written, the question gone."""
        with visit.lock:
            if visit.run is not None and visit.run.replacing is not None:
                visit.run = None

    def drive_refusal(self, visit: Visit, drive_id: str) -> str | None:
        """Why this service may not write to that stick: a copy goes to another stick than its source
        (`same_drive`), a new password back to the source (`other_drive`)."""
        service = visit.journey.service
        if service is Service.COPY and drive_id == visit.stick_drive:
            return "same_drive"
        if service is Service.CHANGE_PASSWORD and drive_id != visit.stick_drive:
            return "other_drive"
        return None

    def check_stick(self, visit: Visit, drive_id: str) -> None:
        """내 인증서 확인: read every certificate on the stick (nothing is written) and judge each.
        Raises DriveError (the view says what to do); the stick stays in, unmounted."""
        visit.journey.require(Step.CHECK)
        self._read_stick(visit, drive_id, with_keys=False)
        logs.event("check.read", certificates=len(visit.stick), truncated=str(visit.stick_truncated).lower())

    def _read_stick(self, visit: Visit, drive_id: str, with_keys: bool) -> None:
        try:
            contents = self.drives.read_certificates(drive_id, with_keys=with_keys)
        except DriveError as exc:
            self.metrics.drive_errors.labels("read", exc.code).inc()
            raise
        visit.stick = self.issuance.inspect(contents.folders)
        visit.stick_truncated = contents.truncated
        visit.stick_drive = drive_id
        visit.held = held_certificates(contents.folders)

    @staticmethod
    def folder_on_stick(visit: Visit, folder: str) -> str | None:
        """The folder as the stick names it, for a name a form sent back: the same name, else the one equal
        to it in NFC, as FAT/exFAT readers and macOS compare names (a Mac writes Hangul in NFD, and the
        forms read every field in NFC: issue 26, item 5). The stick's own spelling is what is written to."""
        names = [cert.folder for cert in visit.stick or ()]
        if folder in names:
            return folder
        wanted = unicodedata.normalize("NFC", folder)
        return next((name for name in names if unicodedata.normalize("NFC", name) == wanted), None)

    def deletable(self, visit: Visit, folder: str) -> bool:
        """The check screen offers to delete only what can no longer be used: expired or revoked."""
        folder = self.folder_on_stick(visit, folder) or folder
        return any(cert.folder == folder and cert.status in (Status.EXPIRED, Status.REVOKED)
                   for cert in visit.stick or ()) and folder in visit.held

    def delete_from_stick(self, visit: Visit, folder: str) -> bool:
        """Take an expired or revoked certificate off the customer's stick, after they confirmed; only if
        the folder still holds the very certificate the screen showed. The stick is read again after.
        Raises DriveError (a write-protected stick, say); False when there was nothing to delete."""
        visit.journey.require(Step.CHECK)
        if not self.deletable(visit, folder):
            return False
        folder = self.folder_on_stick(visit, folder)
        held, drive_id = visit.held[folder], visit.stick_drive
        try:
            removed = self.drives.remove_certificate(drive_id, folder, lambda der: der == held.certificate_der)
        except DriveError as exc:
            self.metrics.drive_errors.labels("delete", exc.code).inc()
            raise
        finally:
            self._release(drive_id)
        logs.event("check.deleted", serial=held.serial, removed=str(removed).lower())
        if removed:
            self._audit("certificate.deleted_from_stick", held.serial)
        self._read_stick(visit, drive_id, with_keys=False)
        return removed

    def _release(self, drive_id: str) -> None:
        """Leave the stick as the check screen found it: unmounted, still in (a failure is the news of
        the call before, or the stick is gone)."""
        try:
            self.drives.release(drive_id)
        except DriveError as exc:
            logs.warning("drive.release_failed", reason=exc.code)

    # --- 인증서 폐지: a lost certificate, revoked from the registry's list (no stick needed) -------------

    def revocable(self, visit: Visit) -> list[CertificateRecord]:
        """The customer's certificates a 폐지 may revoke: the reissue's list (delivered, not revoked, not
        being replaced by another session)."""
        return self.issuance.replaceable(visit.customer.customer_key)

    def revoke_lost(self, visit: Visit, serial: str) -> Outcome:
        """Revoke the customer's certificate `serial` (reason keyCompromise: the stick is lost) at the CA,
        then read the CA's CRL back. NOT_USABLE when `serial` is not one of `revocable`; a CA that fails
        raises its PkiError (the view says what its `code` means) and nothing is marked."""
        visit.journey.require(Step.REVOKE)
        record = next((r for r in self.revocable(visit) if r.serial == serial), None)
        if record is None:
            return Outcome.NOT_USABLE
        self.issuance.revoke(serial, "keyCompromise")
        on_crl, number, when = self._listed_on_crl(serial)
        visit.revoked = Revocation(serial, record.common_name, record.issuer_name, on_crl, number, when)
        self._audit("certificate.revoked_on_loss", serial, f"customer={visit.customer.customer_key}")
        logs.event("revoke.completed", serial=serial, on_crl=str(on_crl).lower(), crl_number=number)
        self._complete(visit, Step.REVOKE)
        return Outcome.OK

    def _listed_on_crl(self, serial: str) -> tuple[bool, int | None, datetime | None]:
        try:
            crl = x509.load_der_x509_crl(self.issuance.crl_der())
        except (PkiError, ValueError) as exc:
            logs.warning("revoke.crl_unread", serial=serial, error=type(exc).__name__)
            return False, None, None
        try:
            number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        except x509.ExtensionNotFound:
            number = None
        listed = crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None
        return listed, number, crl.last_update_utc

    # --- a certificate the customer brought: renew, change its password, copy -----------------------

    def forget_stick(self, visit: Visit) -> None:
        """The customer wants another stick: what was read from this one is dropped."""
        visit.journey.require(Step.SOURCE)
        visit.stick, visit.held, visit.stick_drive, visit.opened = None, {}, None, None

    def read_source(self, visit: Visit, drive_id: str) -> None:
        """Read the stick with the certificate this service starts from, key files included (they stay
        in this visit's memory). Raises DriveError."""
        visit.journey.require(Step.SOURCE)
        self._read_stick(visit, drive_id, with_keys=True)
        logs.event("source.read", certificates=len(visit.stick), service=visit.journey.service.value)

    def why_not_usable(self, visit: Visit, cert) -> str | None:
        """None when `cert` (a CertificateOnStick read at the source step) can start this service, else
        why not, in words the source screen turns into a sentence."""
        held = visit.held.get(cert.folder)
        if held is None or cert.status is Status.DAMAGED:
            return "damaged"
        if not held.key_file:
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

    def choose_source(self, visit: Visit, folder: str, password: str) -> tuple[Outcome, int]:
        """The customer picked a certificate and typed its current password: the key is opened in memory.
        Wrong passwords count towards a lock on that certificate; the stick is never touched.
        Returns the outcome and the tries left."""
        visit.journey.require(Step.SOURCE)
        folder = self.folder_on_stick(visit, folder) or folder
        cert = next((c for c in visit.stick or () if c.folder == folder), None)
        if cert is None or self.why_not_usable(visit, cert):
            return Outcome.NOT_USABLE, 0
        held = visit.held[folder]
        if visit.journey.service is Service.RENEW and unmet_rules(password):
            return Outcome.WEAK, 0
        outcome, left = self._unlock(visit, held, password)
        if outcome is not Outcome.OK:
            return outcome, left
        visit.source = held
        if visit.journey.service is Service.RENEW:
            visit.renews, visit.password = held.serial, password
        self._complete(visit, Step.SOURCE)
        logs.event("source.unlocked", serial=held.serial, service=visit.journey.service.value)
        self.continue_on_source_stick(visit)
        return Outcome.OK, left

    def _unlock(self, visit: Visit, held, password: str) -> tuple[Outcome, int]:
        """Open the key with `password`, counted on the certificate's lock (kiosk.pki.held.tries_key).
        A key file no password can open is DAMAGED and not counted; past that, a key that does not open
        and a key that opens but is not this certificate's are one answer, WRONG, and both count: two
        answers told a made-up certificate beside someone's key file whether the password was right."""
        tries, key = self.certificate_tries, held.tries_key
        try:
            held.check_key_file()
        except KeyFileError as exc:
            logs.warning("source.key_unreadable", serial=held.serial, error=type(exc).__name__)
            return Outcome.DAMAGED, 0
        with tries.one_try_at_a_time(key):
            place = tries.reserve_try(key)
            if place is None:
                logs.warning("source.password_refused_locked", serial=held.serial)
                return Outcome.LOCKED, 0
            try:
                visit.opened = held.unlock(password)
            except (WrongPassword, KeyFileError, KeyMismatch) as exc:
                left = tries.record_wrong(key)
                logs.event("source.password_wrong", serial=held.serial, tries_left=left, error=type(exc).__name__)
                if left == 0:
                    logs.warning("source.password_locked", serial=held.serial)
                    self._audit("certificate.password_locked", held.serial)
                    return Outcome.LOCKED, 0
                return Outcome.WRONG, left
            if not tries.settle_success(key, place):
                visit.opened = None
                return Outcome.LOCKED, 0
        return Outcome.OK, tries.limit

    def continue_on_source_stick(self, visit: Visit) -> None:
        """Renewal and a password change write back to the stick the certificate came from: when that
        is where the customer now is, the drive step is taken for them and the work starts."""
        if visit.journey.current is not Step.DRIVE or visit.journey.service not in (
                Service.RENEW, Service.CHANGE_PASSWORD):
            return
        if self.choose_drive(visit, visit.stick_drive):
            self.start_issuing(visit)

    def start_issuing(self, visit: Visit) -> None:
        """The pipeline runs in a worker thread of its own; the issuing screen polls `visit.run`."""
        visit.worker = threading.Thread(target=self.issue_and_deliver, args=(visit,), name="issuing",
                                        daemon=True)
        visit.worker.start()

    # --- the issuing pipeline ----------------------------------------------------------------------

    def issue_and_deliver(self, visit: Visit) -> None:
        """Prepare (once), write + verify to the chosen drive, eject. A failed write sends the customer
        back to the drive list with the same certificate."""
        run = visit.run
        try:
            if self._asks_before_replacing(visit, run):
                return
            self.metrics.issuances_started.labels(visit.journey.service.value).inc()
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
                    self._complete(visit, Step.ISSUING)
        except DriveError as exc:
            self._failed(visit, run, exc.code)
            self.metrics.drive_errors.labels("write", exc.code).inc()
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

    def _certificate_replaced_by_copy(self, visit: Visit):
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

    @staticmethod
    def replace_question(visit: Visit) -> list | None:
        """What the drive step compares when a copy asked before replacing: the certificate being copied
        and the one it would replace, the later expiry first; None when nothing was asked."""
        run = visit.run
        if run is None or run.replacing is None:
            return None
        copied = next((cert for cert in visit.stick or ()
                       if visit.source and cert.folder == visit.source.folder), None)
        both = [cert for cert in (copied, run.replacing) if cert]
        return sorted(both, key=lambda cert: cert.not_after.timestamp() if cert.not_after else 0, reverse=True)

    def _write(self, visit: Visit, prepared):
        """Deliver the bundle. A new password goes back into the folder it was read from: one visit at a
        time writes that folder, and never over a key file another visit has replaced meanwhile."""
        files, folder = prepared.bundle.files, prepared.bundle.folder
        if visit.journey.service is not Service.CHANGE_PASSWORD:
            return self.drives.deliver(visit.drive_id, files, folder,
                                       keep_backup=visit.journey.service is Service.REISSUE)
        key_file = visit.source.key_file
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

    def _made(self, visit: Visit):
        """What this service writes: a certificate the CA signs, or the customer's own one re-protected
        with the new password, or copied as it is."""
        service = visit.journey.service
        if service is Service.CHANGE_PASSWORD:
            return visit.source.protected_with(visit.opened, visit.password)
        if service is Service.COPY:
            return visit.source.copied()
        customer = visit.customer
        applicant = Applicant(name=customer.name, english_name=customer.english_name,
                              rrn=visit.rrn, customer_key=customer.customer_key)
        predecessor = Predecessor(visit.source.certificate, visit.opened.key) if visit.renews else None
        return self.issuance.prepare(applicant, visit.password, replaces=visit.replaces,
                                     renews=visit.renews, predecessor=predecessor)

    def _delivered(self, visit: Visit, prepared, drive_serial: str) -> None:
        """The bundle is verified on the stick: record it (a renewal or reissue revokes its predecessor
        now) and audit it."""
        service = visit.journey.service.value
        visit.delivered_serial = prepared.serial
        if visit.journey.service.signs:
            self.issuance.mark_delivered(prepared.serial, drive_serial)
            replaced = visit.replaces or visit.renews or ""
            self._audit("certificate.delivered", prepared.serial,
                        f"customer={visit.customer.customer_key} replaces={replaced}", service=service)
        else:
            action = "certificate.copied" if service == Service.COPY.value else "certificate.password_changed"
            self._audit(action, prepared.serial, f"drive={drive_serial}")
            self.metrics.issuances_completed.labels(service).inc()  # no audit pair: not a 발급
        logs.event("issue.completed", serial=prepared.serial, service=service)

    def _remove_replaced(self, visit: Visit) -> None:
        """A reissue: the replaced (now revoked) certificate's folder leaves the stick the new one is on,
        so the customer's banking software lists one certificate, not two. The new bundle is verified
        already; a failure here is logged and the customer keeps what they came for."""
        old = visit.replaces or visit.renews
        if old is None:
            return
        on_this_stick = visit.source is not None and visit.stick_drive == visit.drive_id
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
            self.metrics.drive_events.labels("ejected").inc()
            run.ejected = True
            run.mark("eject", "done")
        except DriveError as exc:
            # the bundle is verified already: the customer keeps it; staff can help with the drive
            run.mark("eject", "failed")
            self.metrics.drive_errors.labels("eject", exc.code).inc()
            logs.warning("drive.eject_failed", reason=exc.code)

    def _failed(self, visit: Visit, run: IssuingRun, code: str, reason: str | None = None) -> None:
        """Back to the drive list; the prepared certificate (if any) is written again next time. `code`
        is what the customer is told, `reason` (default: the code) what the fleet counts."""
        run.error = code
        self.metrics.issuances_failed.labels(visit.journey.service.value, reason or code).inc()
        for stage, state in run.stages.items():
            if state == "active":
                run.mark(stage, "failed")
        with visit.lock:
            if not visit.ended:
                visit.journey.reopen(Step.DRIVE)

    # --- the end -----------------------------------------------------------------------------------

    def end_visit(self, visit: Visit, reason: str) -> None:
        """The session ended (처음으로, idle, hard limit, staff): a write under way is let finish, so the
        stick never keeps a revoked certificate; an issued certificate that never reached a drive is
        revoked; everything secret is dropped."""
        # the audit log is permanent: a visit ending before anyone was identified holds nothing of a
        # customer, and auditing it let a flood of POST /start write thousands of rows (issue 20)
        had_customer = visit.customer is not None or visit.prepared is not None
        try:
            self._wait_for_write(visit)
            self._abandon(visit)
        finally:
            journey = visit.journey
            if journey.current is not journey.steps[-1]:  # done, or the check screen: a visit's end
                self.metrics.journeys_abandoned.labels(journey.current.value).inc()
            visit.wipe()
            logs.event("session.reset", reason=reason)
            if had_customer:
                self._audit_system("session.reset", f"reason={reason}", reason=reason)

    def _wait_for_write(self, visit: Visit) -> None:
        with visit.lock:
            visit.ended = True
            writing = visit.run is not None and visit.run.writing
        if writing and visit.worker is not None:
            logs.event("session.reset_waits_for_write", drive=visit.drive_id)
            visit.worker.join(WRITE_WAIT_SECONDS)
            if visit.worker.is_alive():
                logs.error("session.write_still_running", drive=visit.drive_id)

    def _abandon(self, visit: Visit) -> None:
        """An issued certificate that never reached a drive is revoked. A pipeline still preparing sees
        `ended` and revokes what it signs after this point itself."""
        signed = visit.journey.service is not None and visit.journey.service.signs
        if signed and visit.prepared is not None and visit.delivered_serial is None:
            self.issuance.abandon(visit.prepared.serial)
            logs.warning("issue.abandoned", serial=visit.prepared.serial)
            self._audit("certificate.revoked", visit.prepared.serial, "reason=cessationOfOperation",
                        when="session_end")

    def _audit_system(self, action: str, detail: str, **labels: str) -> None:
        if self.audit is not None:
            self.audit.record("system", action, detail=detail)
        self.metrics.audited(action, **labels)

    def resend_code(self, visit: Visit, subject: str, body_template: str) -> Outcome:
        """다시 받기: a new code replaces the old (or the first goes out, if its send failed). Raises
        `ResendRefused` (too soon, too many; kiosk.journey.email_code) before anything is sent."""
        with visit.lock:
            if visit.challenge is not None:
                visit.challenge.resend()
        return self.send_code(visit, subject, body_template)

"""One customer's visit: the journey's state plus what the customer has proven so far, and the calls
that move it forward. Views parse forms and call these; nothing here knows about HTTP.

Everything secret lives only here, in memory: the resident number (needed for the VID), the
certificate password (a bytearray, overwritten on wipe), the e-mail code and the prepared bundle.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from kiosk import logs
from kiosk.clock import Clock
from kiosk.identity import Customer, IdentityServiceUnavailable
from kiosk.journey.email_code import CodeResult, EmailChallenge
from kiosk.journey.machine import Journey, Service, Step


class Outcome(str, Enum):
    OK = "ok"
    NOT_FOUND = "not_found"
    LOCKED = "locked"
    WRONG = "wrong"
    UNAVAILABLE = "unavailable"


@dataclass
class IssuingRun:
    """What the issuing screen shows: each stage's state, and how it ended."""

    stages: dict = field(default_factory=lambda: {s: "waiting" for s in STAGES})
    finished: bool = False
    error: str | None = None          # a DriveError code, a PkiError code ("issuance_failed", ...), or None
    ejected: bool = False

    def mark(self, stage: str, state: str) -> None:
        self.stages[stage] = state


STAGES = ("prepare", "write", "verify", "eject")


@dataclass
class CustomerFlow:
    clock: Clock
    journey: Journey = field(default_factory=Journey)
    customer: Customer | None = None
    rrn: str = ""
    challenge: EmailChallenge | None = None
    password: bytearray = field(default_factory=bytearray)
    replaces: str | None = None
    drive_id: str | None = None
    prepared: object | None = None      # kiosk.pki.issuance.PreparedCertificate
    delivered_serial: str | None = None
    run: IssuingRun | None = None
    audit: object | None = None         # kiosk.store.audit.AuditLog
    ended: bool = False                 # the session ended (reset, idle, staff) while issuing ran
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def _audit(self, action: str, subject: str | None = None, detail: str = "") -> None:
        if self.audit is not None:
            self.audit.record("customer", action, subject, detail)

    # --- steps -----------------------------------------------------------------------------------

    def choose_service(self, service: Service) -> None:
        self.journey.choose(service)
        logs.event("journey.started", service=service.value)

    def consent(self) -> None:
        self.journey.complete(Step.CONSENT)

    def identify(self, directory, accounts, name: str, rrn: str, id_kind: str, issue_date: date) -> Outcome:
        self.journey.require(Step.IDENTITY)
        try:
            customer = directory.find(name, rrn, id_kind, issue_date)
        except IdentityServiceUnavailable as exc:
            logs.warning("identity.directory_unavailable", reason=str(exc))
            return Outcome.UNAVAILABLE
        if customer is None:
            logs.event("identity.not_matched", id_kind=id_kind)
            return Outcome.NOT_FOUND
        if accounts.is_locked(customer):
            logs.warning("identity.locked_customer", customer=customer.customer_key[:12])
            return Outcome.LOCKED
        self.customer, self.rrn = customer, rrn
        self.journey.complete(Step.IDENTITY)
        logs.event("identity.matched", customer=customer.customer_key[:12])
        return Outcome.OK

    def verify_account(self, accounts, account: str, pin: str):
        self.journey.require(Step.ACCOUNT)
        try:
            check = accounts.verify(self.customer, account, pin)
        except IdentityServiceUnavailable as exc:
            logs.warning("identity.accounts_unavailable", reason=str(exc))
            return Outcome.UNAVAILABLE, None
        customer = self.customer.customer_key[:12]
        if check.ok:
            self.journey.complete(Step.ACCOUNT)
            logs.event("identity.account_verified", customer=customer)
            return Outcome.OK, check
        if check.locked and not check.checked:
            logs.warning("identity.account_refused_locked", customer=customer)
            return Outcome.LOCKED, check
        if check.locked:
            logs.warning("identity.account_locked", customer=customer)
            self._audit("customer.locked", self.customer.customer_key)
            return Outcome.LOCKED, check
        logs.event("identity.account_failed", customer=customer, tries_left=check.tries_left)
        return Outcome.WRONG, check

    def send_code(self, sender, subject: str, body_template: str) -> Outcome:
        """Send the first code (or a resend: the caller checked `challenge.resend()` first)."""
        if self.challenge is None:
            self.challenge = EmailChallenge(self.clock)
        try:
            sender.send(self.customer.email, subject, body_template.format(code=self.challenge.code))
        except IdentityServiceUnavailable as exc:
            logs.warning("email.send_failed", reason=str(exc))
            if self.challenge.resends == 0:
                self.challenge = None  # nothing reached the customer: the next showing sends again
            return Outcome.UNAVAILABLE
        logs.event("email.code_sent", email=self.customer.email, resends=self.challenge.resends)
        return Outcome.OK

    def check_code(self, typed: str) -> CodeResult:
        self.journey.require(Step.EMAIL)
        result = self.challenge.check(typed) if self.challenge else CodeResult.EXPIRED
        if result is CodeResult.OK:
            self.challenge.wipe()
            self.journey.complete(Step.EMAIL)
        logs.event("email.code_checked", result=result.value)
        return result

    def choose_replacement(self, serial: str) -> None:
        self.journey.require(Step.REPLACE)
        self.replaces = serial
        self.journey.complete(Step.REPLACE)

    def set_password(self, password: str) -> None:
        self.journey.require(Step.PASSWORD)
        self._wipe_password()
        self.password = bytearray(password.encode("utf-8"))
        self.journey.complete(Step.PASSWORD)

    def choose_drive(self, drive_id: str) -> None:
        with self.lock:
            self.journey.require(Step.DRIVE)
            self.drive_id = drive_id
            self.run = IssuingRun()
            self.journey.complete(Step.DRIVE)

    # --- the issuing pipeline ----------------------------------------------------------------------

    def issue_and_deliver(self, issuance, drives) -> None:
        """Run in a worker thread: prepare (once), write + verify to the chosen drive, eject.
        A failed write sends the customer back to the drive list with the same certificate."""
        from hardware import DriveError
        from kiosk.pki.errors import PkiError

        run = self.run
        try:
            self._prepare(issuance, run)
            with self.lock:
                if self.ended:  # the customer left while the CA signed: nothing reaches a drive
                    issuance.abandon(self.prepared.serial)
                    return
            run.mark("write", "active")
            result = drives.deliver(self.drive_id, self.prepared.bundle.files, self.prepared.subject_dn,
                                    keep_backup=self.replaces is not None)
            run.mark("write", "done")
            run.mark("verify", "done")
            issuance.mark_delivered(self.prepared.serial, result.drive_serial)
            self.delivered_serial = self.prepared.serial
            self._audit("certificate.delivered", self.prepared.serial,
                        f"customer={self.customer.customer_key} replaces={self.replaces or ''}")
            logs.event("issue.completed", serial=self.prepared.serial, service=self.journey.service.value)
            self._wipe_password()
            self._eject(drives, run)
            with self.lock:
                self.journey.complete(Step.ISSUING)
        except DriveError as exc:
            self._failed(run, exc.code)
            logs.warning("drive.write_failed", reason=exc.code, detail=str(exc))
        except PkiError as exc:
            self._failed(run, exc.code)  # issuance_failed, or ca_unreachable/ca_rejected/reference_rejected
            logs.error("issue.failed", reason=type(exc).__name__, detail=str(exc))
        except sqlite3.OperationalError as exc:
            # the database locked past its busy timeout: without this the worker died, the run read
            # "finished" with no error, and the customer bounced between the drive and issuing steps
            self._failed(run, "issuance_failed")
            logs.error("issue.failed", reason="database", detail=str(exc))
        except Exception as exc:  # noqa: BLE001 - the thread's edge: a bug is logged with its traceback
            self._failed(run, "issuance_failed")
            logs.error("issue.crashed", exc_info=True, error=type(exc).__name__)
        finally:
            run.finished = True

    def _prepare(self, issuance, run: IssuingRun) -> None:
        if self.prepared is not None:
            run.mark("prepare", "done")
            return
        from kiosk.pki.issuance import Applicant

        run.mark("prepare", "active")
        applicant = Applicant(name=self.customer.name, english_name=self.customer.english_name,
                              rrn=self.rrn, customer_key=self.customer.customer_key)
        self.prepared = issuance.prepare(applicant, self.password.decode("utf-8"), replaces=self.replaces)
        run.mark("prepare", "done")

    def _eject(self, drives, run: IssuingRun) -> None:
        from hardware import DriveError

        run.mark("eject", "active")
        try:
            drives.eject(self.drive_id)
            run.ejected = True
            run.mark("eject", "done")
        except DriveError as exc:
            # the bundle is verified already: the customer keeps it; staff can help with the drive
            run.mark("eject", "failed")
            logs.warning("drive.eject_failed", reason=exc.code)

    def _failed(self, run: IssuingRun, code: str) -> None:
        """Back to the drive list; the prepared certificate (if any) is written again next time."""
        run.error = code
        for stage, state in run.stages.items():
            if state == "active":
                run.mark(stage, "failed")
        with self.lock:
            self.journey.reopen(Step.DRIVE)

    # --- the end -----------------------------------------------------------------------------------

    def abandon(self, issuance) -> None:
        """The session ended: an issued certificate that never reached a drive is revoked. A pipeline
        still running sees `ended` and revokes what it signs after this point itself."""
        with self.lock:
            self.ended = True
        if self.prepared is not None and self.delivered_serial is None and issuance is not None:
            issuance.abandon(self.prepared.serial)
            logs.warning("issue.abandoned", serial=self.prepared.serial)
            self._audit("certificate.revoked", self.prepared.serial, "reason=cessationOfOperation")

    def _wipe_password(self) -> None:
        self.password[:] = b"\0" * len(self.password)
        self.password = bytearray()

    def wipe(self) -> None:
        self._wipe_password()
        if self.challenge:
            self.challenge.wipe()
        self.rrn = ""
        self.customer = None
        self.prepared = None

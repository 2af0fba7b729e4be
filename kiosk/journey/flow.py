"""The customer's journey as the kiosk runs it: built once at start-up (kiosk.wiring) with the ports it
calls, and given the customer's `Visit` on every call. Views parse a form and call one method here;
nothing here knows about HTTP. The flow owns the issuing worker: one thread per visit, started by
`start_issuing`, and waited for by `end_visit` while it writes to a stick.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from hardware import DriveError, DriveManager
from kiosk import logs
from kiosk.clock import Clock
from kiosk.identity import CodeSender, CustomerDirectory, IdentityServiceUnavailable
from kiosk.identity.lockouts import LockingAccounts
from kiosk.journey.email_code import CodeResult, EmailChallenge
from kiosk.journey.machine import Service, Step
from kiosk.journey.visit import IssuingRun, Visit
from kiosk.metrics import KioskMetrics
from kiosk.pki.errors import PkiError
from kiosk.pki.issuance import Applicant, CertificateRecord, IssuanceService
from kiosk.store.audit import AuditLog

# how long ending a visit waits for a write already under way (a real stick takes seconds; a wedged one
# is abandoned: the write undoes itself when the stick errors, and the certificate is revoked)
WRITE_WAIT_SECONDS = 120.0


class Outcome(str, Enum):
    OK = "ok"
    NOT_FOUND = "not_found"
    LOCKED = "locked"
    WRONG = "wrong"
    UNAVAILABLE = "unavailable"


@dataclass
class CustomerFlow:
    directory: CustomerDirectory
    accounts: LockingAccounts
    code_sender: CodeSender
    issuance: IssuanceService
    drives: DriveManager | None
    audit: AuditLog | None
    clock: Clock
    metrics: KioskMetrics = field(default_factory=KioskMetrics)
    # called on the issuing worker's own thread as it ends: the store opens one SQLite connection per
    # thread, and a thread per issuance left one connection (two descriptors, its page cache) behind
    # every customer (bench/soak.py)
    release_thread: Callable[[], None] = lambda: None

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

    def identify(self, visit: Visit, name: str, rrn: str, id_kind: str, issue_date: date) -> Outcome:
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
        visit.customer, visit.rrn = customer, rrn
        self._complete(visit, Step.IDENTITY)
        logs.event("identity.matched", customer=customer.customer_key[:12])
        return Outcome.OK

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
        """Send the first code (or a resend: the caller checked `challenge.resend()` first)."""
        if visit.challenge is None:
            visit.challenge = EmailChallenge(self.clock)
        try:
            self.code_sender.send(visit.customer.email, subject,
                                  body_template.format(code=visit.challenge.code))
        except IdentityServiceUnavailable as exc:
            self.metrics.email_code_failures.inc()
            logs.warning("email.send_failed", reason=str(exc))
            if visit.challenge.resends == 0:
                visit.challenge = None  # nothing reached the customer: the next showing sends again
            return Outcome.UNAVAILABLE
        self.metrics.email_codes_sent.inc()
        logs.event("email.code_sent", email=visit.customer.email, resends=visit.challenge.resends)
        return Outcome.OK

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

    def choose_drive(self, visit: Visit, drive_id: str) -> bool:
        """Take the drive for this visit's bundle; False when it is not (or no longer) an eligible drive."""
        drive = {d.id: d for d in self.drives.drives()}.get(drive_id) if self.drives else None
        if drive is None or not drive.eligible:
            return False
        with visit.lock:
            visit.journey.require(Step.DRIVE)
            visit.drive_id = drive_id
            visit.run = IssuingRun()
            self._complete(visit, Step.DRIVE)
        return True

    def check_stick(self, visit: Visit, drive_id: str) -> None:
        """내 인증서 확인: read every certificate on the stick (nothing is written) and judge each.
        Raises DriveError (the view says what to do); the stick stays in, unmounted."""
        visit.journey.require(Step.CHECK)
        try:
            contents = self.drives.read_certificates(drive_id)
        except DriveError as exc:
            self.metrics.drive_errors.labels("read", exc.code).inc()
            raise
        visit.stick = self.issuance.inspect(contents.folders)
        visit.stick_truncated = contents.truncated
        logs.event("check.read", certificates=len(visit.stick), truncated=str(contents.truncated).lower())

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
        self.metrics.issuances_started.labels(visit.journey.service.value).inc()
        try:
            self._prepare(visit, run)
            with visit.lock:
                if visit.ended:  # the customer left while the CA signed: nothing reaches a drive
                    self.issuance.abandon(visit.prepared.serial)
                    return
                run.mark("write", "active")  # from here on, ending the visit waits for the write
            prepared = visit.prepared
            result = self.drives.deliver(visit.drive_id, prepared.bundle.files, prepared.bundle.folder,
                                         keep_backup=visit.replaces is not None)
            run.mark("write", "done")
            run.mark("verify", "done")
            self.issuance.mark_delivered(prepared.serial, result.drive_serial)
            visit.delivered_serial = prepared.serial
            self._audit("certificate.delivered", prepared.serial,
                        f"customer={visit.customer.customer_key} replaces={visit.replaces or ''}",
                        service=visit.journey.service.value)
            logs.event("issue.completed", serial=prepared.serial, service=visit.journey.service.value)
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

    def _prepare(self, visit: Visit, run: IssuingRun) -> None:
        if visit.prepared is not None:
            run.mark("prepare", "done")
            return
        run.mark("prepare", "active")
        customer = visit.customer
        applicant = Applicant(name=customer.name, english_name=customer.english_name,
                              rrn=visit.rrn, customer_key=customer.customer_key)
        visit.prepared = self.issuance.prepare(applicant, visit.password, replaces=visit.replaces)
        run.mark("prepare", "done")

    def _remove_replaced(self, visit: Visit) -> None:
        """A reissue: the replaced (now revoked) certificate's folder leaves the stick the new one is on,
        so the customer's banking software lists one certificate, not two. The new bundle is verified
        already; a failure here is logged and the customer keeps what they came for."""
        if visit.replaces is None:
            return
        old = visit.replaces
        try:
            removed = self.drives.remove_replaced(
                visit.drive_id, self.issuance.bundle_folder_of(old),
                lambda der: self.issuance.is_certificate(old, der))
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
        if visit.prepared is not None and visit.delivered_serial is None:
            self.issuance.abandon(visit.prepared.serial)
            logs.warning("issue.abandoned", serial=visit.prepared.serial)
            self._audit("certificate.revoked", visit.prepared.serial, "reason=cessationOfOperation",
                        when="session_end")

    def _audit_system(self, action: str, detail: str, **labels: str) -> None:
        if self.audit is not None:
            self.audit.record("system", action, detail=detail)
        self.metrics.audited(action, **labels)

"""The customer's journey as the kiosk runs it, in three parts with one reason to change each:

- `CustomerFlow` (here): the visit's life (start, service, end) and the steps that prove who the customer
  is (identity, account, e-mail code), choose what to replace or revoke, and set the password;
- `flow.stick` (kiosk.journey.stick): the stick the customer brought, for the check and as the source of
  a renewal, a password change or a copy;
- `flow.delivery` (kiosk.journey.delivery): the drive step and the issuing worker that writes to a stick.

All are built once at start-up (kiosk.wiring) on the ports they call, hold no customer state and are
given the customer's `Visit` on every call; each step answers with one `Answer` (kiosk.journey.answer).
Views parse a form and call one method of one part; nothing here knows about HTTP. What an outcome
leaves behind (audit row, counter, step reached) is written by kiosk.journey.record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from cryptography import x509

from hardware import DriveManager
from kiosk import logs
from kiosk.clock import Clock
from kiosk.identity import CodeSender, CustomerDirectory, IdentityServiceUnavailable, WithdrawalAccount
from kiosk.identity.lockouts import LockingAccounts, Lockouts
from kiosk.identity.ports import IdCardCheck, IdCheckOutcome
from kiosk.journey.answer import OK, Answer, Outcome
from kiosk.journey.delivery import Delivery, FolderWriters
from kiosk.journey.email_code import CodeResult, EmailChallenge
from kiosk.journey.machine import Service, Step
from kiosk.journey.record import Record
from kiosk.journey.stick import StickSteps
from kiosk.journey.visit import Revocation, Visit
from kiosk.metrics import KioskMetrics
from kiosk.pki.errors import PkiError
from kiosk.pki.issuance import CertificateRecord, IssuanceService
from kiosk.store.audit import AuditLog

__all__ = ["Answer", "CustomerFlow", "Outcome", "Revocation"]


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
    # called on the issuing worker's own thread as it ends (kiosk.journey.delivery.Delivery)
    release_thread: Callable[[], None] = lambda: None
    folder_writers: FolderWriters = field(default_factory=FolderWriters)
    record: Record = field(init=False)
    stick: StickSteps = field(init=False)
    delivery: Delivery = field(init=False)

    def __post_init__(self) -> None:
        """The parts share the ports and one `Record`; this is the only place that assembles them."""
        self.record = Record(self.audit, self.metrics)
        self.stick = StickSteps(self.issuance, self.drives, self.record, self.certificate_tries)
        self.delivery = Delivery(self.issuance, self.drives, self.record, self.release_thread, self.folder_writers)

    # --- steps -----------------------------------------------------------------------------------

    def start(self) -> Visit:
        self.record.reached(Step.SERVICE)
        return Visit()

    def choose_service(self, visit: Visit, service: Service) -> None:
        visit.journey.choose(service)
        self.record.reached(visit.journey.current)
        logs.event("journey.started", service=service.value)

    def consent(self, visit: Visit) -> None:
        self.record.complete(visit, Step.CONSENT)

    def identify(self, visit: Visit, name: str, rrn: str, id_kind: str, issue_date: date,
                 licence_number: str = "", licence_serial: str = "", by: str = "keyboard") -> Answer:
        """The directory finds the customer, then the authenticity service checks the card (a driver's
        licence typed without its number cannot be checked there: the directory's match stands alone).
        `by`: "camera" (a read card the customer confirmed) or "keyboard", for the log."""
        visit.journey.require(Step.IDENTITY)
        try:
            customer = self.directory.find(name, rrn, id_kind, issue_date)
        except IdentityServiceUnavailable as exc:
            logs.warning("identity.directory_unavailable", reason=str(exc))
            return Answer(Outcome.UNAVAILABLE)
        if customer is None:
            logs.event("identity.not_matched", id_kind=id_kind)
            return Answer(Outcome.NOT_FOUND)
        if self.accounts.is_locked(customer):
            logs.warning("identity.locked_customer", customer=customer.customer_key[:12])
            return Answer(Outcome.LOCKED)
        if self.id_check is not None and (id_kind != "driver_license" or licence_number):
            checked = self._check_card(customer, id_kind, name, rrn, issue_date, licence_number, licence_serial)
            if checked is not Outcome.OK:
                return Answer(checked)
        visit.customer, visit.rrn, visit.reading = customer, rrn, None
        self.record.complete(visit, Step.IDENTITY)
        logs.event("identity.matched", customer=customer.customer_key[:12], by=by)
        return OK

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
        self.record.customer("identity.id_check_failed", key, f"outcome={failed.value}")
        if left == 0:
            self.record.customer("customer.locked", key)
            return Outcome.LOCKED
        return failed

    def withdrawal_accounts(self, visit: Visit) -> list[WithdrawalAccount]:
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

    def verify_account(self, visit: Visit, account: str, pin: str) -> Answer:
        """The account's PIN, counted on the customer's lock (kiosk.identity.lockouts); WRONG says the
        tries left."""
        visit.journey.require(Step.ACCOUNT)
        try:
            check = self.accounts.verify(visit.customer, account, pin)
        except IdentityServiceUnavailable as exc:
            logs.warning("identity.accounts_unavailable", reason=str(exc))
            return Answer(Outcome.UNAVAILABLE)
        customer = visit.customer.customer_key[:12]
        if check.ok:
            self.record.complete(visit, Step.ACCOUNT)
            logs.event("identity.account_verified", customer=customer)
            return OK
        if check.locked and not check.checked:
            logs.warning("identity.account_refused_locked", customer=customer)
            return Answer(Outcome.LOCKED, tries_left=0)
        if check.locked:
            logs.warning("identity.account_locked", customer=customer)
            self.record.customer("customer.locked", visit.customer.customer_key)
            return Answer(Outcome.LOCKED, tries_left=0)
        logs.event("identity.account_failed", customer=customer, tries_left=check.tries_left)
        return Answer(Outcome.WRONG, tries_left=check.tries_left)

    def send_code(self, visit: Visit, subject: str, body_template: str) -> Answer:
        """Send the first code (`resend_code` sends the next ones). The send
        may take up to the sender's deadline; the visit may end meanwhile (idle, staff): then nothing of
        it is touched again and ENDED is returned (issue 26, item 9)."""
        with visit.lock:
            if visit.ended or visit.customer is None:
                return Answer(Outcome.ENDED)
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
                    visit.challenge = None  # nothing reached the customer: 다시 받기 sends the first code
                return Answer(Outcome.ENDED if visit.ended else Outcome.UNAVAILABLE)
        self.metrics.email_codes_sent.inc()
        logs.event("email.code_sent", email=email, resends=challenge.resends)
        return Answer(Outcome.ENDED) if visit.ended else OK

    def check_code(self, visit: Visit, typed: str) -> Answer:
        """The code typed: OK, WRONG (with the tries left), EXPIRED or TOO_MANY_TRIES (a new code is
        needed for both)."""
        visit.journey.require(Step.EMAIL)
        result = visit.challenge.check(typed) if visit.challenge else CodeResult.EXPIRED
        if result is CodeResult.OK:
            visit.challenge.wipe()
            self.record.complete(visit, Step.EMAIL)
        logs.event("email.code_checked", result=result.value)
        left = visit.challenge.tries_left if result is CodeResult.WRONG else None
        return Answer(Outcome(result.value), tries_left=left)  # each CodeResult is an Outcome of the same name

    def replaceable(self, visit: Visit) -> list[CertificateRecord]:
        """The customer's certificates a reissue may replace: delivered, and not being replaced by another
        session (the registry decides, issue 20)."""
        return self.issuance.replaceable(visit.customer.customer_key)

    def choose_replacement(self, visit: Visit, serial: str) -> Answer:
        """NOT_USABLE when `serial` is not one of the customer's replaceable certificates."""
        visit.journey.require(Step.REPLACE)
        if serial not in {r.serial for r in self.replaceable(visit)}:
            return Answer(Outcome.NOT_USABLE)
        visit.replaces = serial
        self.record.complete(visit, Step.REPLACE)
        return OK

    def set_password(self, visit: Visit, password: str) -> None:
        """The new certificate's password (the form checked the rules), kept for the worker. Nothing
        starts here: a password change then writes back with `delivery.start_writing_back`."""
        visit.journey.require(Step.PASSWORD)
        visit.password = password
        self.record.complete(visit, Step.PASSWORD)

    # --- 인증서 폐지: a lost certificate, revoked from the registry's list (no stick needed) -------------

    def revocable(self, visit: Visit) -> list[CertificateRecord]:
        """The customer's certificates a 폐지 may revoke: the reissue's list (delivered, not revoked, not
        being replaced by another session)."""
        return self.issuance.replaceable(visit.customer.customer_key)

    def revoke_lost(self, visit: Visit, serial: str) -> Answer:
        """Revoke the customer's certificate `serial` (reason keyCompromise: the stick is lost) at the CA,
        then read the CA's CRL back. NOT_USABLE when `serial` is not one of `revocable`; CA_FAILED (with
        the PkiError's code) when the CA did not revoke it: nothing is marked."""
        visit.journey.require(Step.REVOKE)
        record = next((r for r in self.revocable(visit) if r.serial == serial), None)
        if record is None:
            return Answer(Outcome.NOT_USABLE)
        try:
            self.issuance.revoke(serial, "keyCompromise")
        except PkiError as exc:
            logs.error("revoke.failed", reason=type(exc).__name__, detail=str(exc))
            return Answer(Outcome.CA_FAILED, reason=exc.code)
        on_crl, number, when = self._listed_on_crl(serial)
        visit.revoked = Revocation(serial, record.common_name, record.issuer_name, on_crl, number, when)
        self.record.customer("certificate.revoked_on_loss", serial, f"customer={visit.customer.customer_key}")
        logs.event("revoke.completed", serial=serial, on_crl=str(on_crl).lower(), crl_number=number)
        self.record.complete(visit, Step.REVOKE)
        return OK

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

    # --- the end -----------------------------------------------------------------------------------

    def end_visit(self, visit: Visit, reason: str) -> None:
        """The session ended (처음으로, idle, hard limit, staff): a write under way is let finish, so the
        stick never keeps a revoked certificate; an issued certificate that never reached a drive is
        revoked; everything secret is dropped."""
        # the audit log is permanent: a visit ending before anyone was identified holds nothing of a
        # customer, and auditing it let a flood of POST /start write thousands of rows (issue 20)
        had_customer = visit.customer is not None or visit.prepared is not None
        try:
            self.delivery.finish(visit)
        finally:
            journey = visit.journey
            if journey.current is not journey.steps[-1]:  # done, or the check screen: a visit's end
                self.metrics.journeys_abandoned.labels(journey.current.value).inc()
            visit.wipe()
            logs.event("session.reset", reason=reason)
            if had_customer:
                self.record.system("session.reset", f"reason={reason}", reason=reason)

    def resend_code(self, visit: Visit, subject: str, body_template: str) -> Answer:
        """다시 받기: a new code replaces the old (or the first goes out, if its send failed). Raises
        `ResendRefused` (too soon, too many; kiosk.journey.email_code) before anything is sent."""
        with visit.lock:
            if visit.challenge is not None:
                visit.challenge.resend()
        return self.send_code(visit, subject, body_template)

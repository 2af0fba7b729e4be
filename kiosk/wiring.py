"""The kiosk's long-lived parts, built once from `Settings`: the store, the adapter chosen for each
outside system (demo or production), and the customer flow built on them. Nothing here knows about the
web: `kiosk.web.create_app` keeps the result in `app.extensions["kiosk"]`, and tests build as many as
they like.

Two steps, so that choosing is never starting:
1. `build(settings)` chooses every adapter and connects nothing: no database opened, no thread, no
   network. `kiosk doctor` and the commands build a kiosk to reach the same adapters the server uses.
2. `Kiosk.start()` makes what runs: migrates the store (before its first use), refuses demo data in
   production, and starts the drive watcher (once, however often it is called).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from hardware import DriveManager
from hardware.printer import receipt_printer
from kiosk import logs
from kiosk.clock import Clock
from kiosk.idcard import CardReader
from kiosk.identity import CodeSender, CustomerDirectory, IdCardCheck, IdentityServiceUnavailable
from kiosk.identity.limits import LimitedDirectory
from kiosk.identity.lockouts import LockingAccounts, Lockouts
from kiosk.journey.flow import CustomerFlow
from kiosk.journey.machine import Journey, Service, Step
from kiosk.journey.receipt_desk import ReceiptDesk
from kiosk.jsonhttp import JsonService
from kiosk.metrics import DriveEvents, JourneyLabels, KioskMetrics, KioskStateCollector, MeasuredCA
from kiosk.pki.issuance import IssuanceService
from kiosk.settings import ConfigurationError, Settings
from kiosk.staff import StaffGate
from kiosk.store import Store
from kiosk.store.audit import AuditLog
from kiosk.store.state import KioskState
from kiosk.updates import SystemUpdates, UpdaterUnavailable


@dataclass
class Kiosk:
    settings: Settings
    clock: Clock
    store: Store
    state: KioskState
    audit: AuditLog
    lockouts: Lockouts
    directory: CustomerDirectory
    id_check: IdCardCheck
    accounts: LockingAccounts
    code_sender: CodeSender
    staff_gate: StaffGate
    issuance: IssuanceService
    drives: DriveManager
    flow: CustomerFlow
    metrics: KioskMetrics
    receipts: ReceiptDesk
    card_reader: CardReader = field(default_factory=CardReader)   # the identity step's camera (issue 25)
    updates: SystemUpdates | None = None  # the A/B appliance's updates from a stick (KIOSK_RAUC_CONF)
    started: bool = field(default=False, init=False)

    def start(self) -> Kiosk:
        """Migrate the store, refuse demo data in production, start watching drives; idempotent. Raises
        ConfigurationError when production mode finds demo data, StoreError for an unusable database."""
        if self.started:
            return self
        self.store.migrate()
        if self.store.newer_than_code:  # rolled back to this release: its schema reads the newer one
            logs.warning("store.schema_newer_than_code", version=self.store.version)
        refuse_demo_data_in_production(self.settings, self.store)
        self.drives.start()
        self.drives.subscribe(DriveEvents(self.metrics, self.drives.drives()))
        self.started = True
        return self

    def prepare_to_serve(self) -> None:
        """Before the first customer: revoke what a crash left undelivered."""
        revoked = self.issuance.revoke_undelivered()  # logs pki.undelivered_revoked
        for _ in range(revoked):  # one row per certificate, as the staff console counts revocations
            self.audit.record("system", "certificate.revoked", detail="undelivered_at_start")
            self.metrics.audited("certificate.revoked", when="start_up")
        # the card reader's libraries and models load beside the first customer, not in front of them
        threading.Thread(target=self.card_reader.warm, name="card-reader-warm", daemon=True).start()

    def health_probes(self) -> list[tuple[str, Callable[[], bool]]]:
        """What the systemd watchdog asks of the kiosk itself (kiosk.health.watchdog; the server adds the
        app probe): the drive watcher thread lives."""
        return [("drives", lambda: bool(self.drives.is_alive()))]

    def close(self) -> None:
        self.card_reader.close()
        self.drives.stop()
        self.store.close_all()


def build(settings: Settings, clock: Clock | None = None) -> Kiosk:
    """Pick every adapter and build the parts on them, starting nothing (`Kiosk.start` does). Raises
    CaError when KIOSK_CA=cmp names certificate files that cannot be read."""
    clock = clock or Clock()
    store = Store(settings.database_path)
    audit = AuditLog(store)
    lockouts = Lockouts(store)
    accounts = LockingAccounts(account_verifier(settings, store), lockouts)
    directory = LimitedDirectory(customer_directory(settings, store), clock)  # no oracle (issue 20)
    sender = code_sender(settings, store)
    metrics = KioskMetrics(journey_labels())
    issuance = IssuanceService.from_settings(settings.pki, store, wrap_ca=lambda ca: MeasuredCA(ca, metrics))
    drives = DriveManager.from_backend(settings.drives_backend, settings.data_dir)
    id_check = id_card_check(settings, store)
    flow = CustomerFlow(directory=directory, accounts=accounts, code_sender=sender, issuance=issuance,
                        drives=drives, audit=audit, clock=clock, certificate_tries=lockouts, metrics=metrics,
                        release_thread=store.close, id_check=id_check)
    state = KioskState(store)

    def out_of_service() -> bool:
        """Read on the scrape's own short-lived thread, whose connection is closed after the read."""
        try:
            return state.out_of_service
        finally:
            store.close()

    metrics.add(KioskStateCollector(
        out_of_service=out_of_service, ca_chain_pem=issuance.ca_chain_pem,
        crl_path=settings.pki.ca_dir / "crl.der" if settings.ca_backend == "embedded" else None,
        data_dir=settings.data_dir, drives=drives.drives))
    return Kiosk(settings=settings, clock=clock, store=store, state=state, audit=audit,
                 lockouts=lockouts, directory=directory, id_check=id_check,
                 accounts=accounts, code_sender=sender,
                 staff_gate=StaffGate(store, clock=clock), issuance=issuance, drives=drives, flow=flow,
                 metrics=metrics, receipts=receipt_desk(settings, sender, issuance),
                 updates=system_updates(settings, drives))


def system_updates(settings: Settings, drives: DriveManager) -> SystemUpdates | None:
    """Where RAUC is configured (the appliance), the staff console installs bundles from a stick; on a
    kiosk installed from the .deb alone, updates are apt's and the console offers none."""
    if not settings.rauc_conf.exists():
        return None
    from kiosk.build import image_version
    from kiosk.updates.rauc import Rauc

    try:
        return SystemUpdates(Rauc(settings.rauc_conf), drives, image_version(), settings.data_dir / "updates")
    except UpdaterUnavailable as exc:  # the kiosk serves customers without it; the console says none
        logs.warning("update.updater_unconfigured", detail=str(exc))
        return None


def journey_labels() -> JourneyLabels:
    """What the fleet's counters are labelled with, from the journey's own route table."""
    return JourneyLabels(
        issuing_services=tuple(service.value for service in Service
                               if Step.ISSUING in Journey(service=service).steps),
        steps=tuple(step.value for step in Step),
        signing_services=frozenset(service.value for service in Service if service.signs))


def receipt_desk(settings: Settings, sender: CodeSender, issuance: IssuanceService) -> ReceiptDesk:
    """Receipts go through the same mail adapter as the e-mail code, and to the printer if there is one
    (KIOSK_PRINTER; a missing printer is found when printing, and reported by `kiosk doctor`); the
    renewal date on them follows the issuance's window (KIOSK_RENEWAL_WINDOW_DAYS)."""
    return ReceiptDesk(sender, receipt_printer(settings.printer), settings.receipt_help_url,
                       issuance.renewal_window)


def refuse_demo_data_in_production(settings: Settings, store: Store) -> None:
    if settings.is_demo:
        return
    from kiosk.identity.demo import demo_customer_count

    if demo_customer_count(store):
        raise ConfigurationError(
            "KIOSK_MODE=production refuses to start: the database holds demo customers "
            f"({settings.database_path}); use a fresh KIOSK_DATA_DIR without `--demo`"
        )


def customer_directory(settings: Settings, store: Store) -> CustomerDirectory:
    if settings.directory_url:
        from kiosk.identity.http import HttpDirectory

        return HttpDirectory(JsonService(settings.directory_url, IdentityServiceUnavailable),
                             settings.customer_hash_key)
    from kiosk.identity.demo import DemoDirectory

    return DemoDirectory(store, settings.customer_hash_key)


def id_card_check(settings: Settings, store: Store) -> IdCardCheck:
    if settings.id_check_url:
        from kiosk.identity.http import HttpIdCheck

        return HttpIdCheck(JsonService(settings.id_check_url, IdentityServiceUnavailable))
    from kiosk.identity.demo import DemoIdCheck

    return DemoIdCheck(store, settings.customer_hash_key)


def account_verifier(settings: Settings, store: Store):
    if settings.accounts_url:
        from kiosk.identity.http import HttpAccounts

        return HttpAccounts(JsonService(settings.accounts_url, IdentityServiceUnavailable))
    from kiosk.identity.demo import DemoAccounts

    return DemoAccounts(store, settings.customer_hash_key)


def code_sender(settings: Settings, store: Store) -> CodeSender:
    if settings.smtp_url:
        from kiosk.identity.smtp import SmtpCodeSender

        try:
            return SmtpCodeSender(settings.smtp_url, settings.mail_from)
        except ValueError as exc:  # an unknown scheme, a typo in the env file: said at start
            raise ConfigurationError(str(exc)) from None
    from kiosk.identity.demo import DemoOutbox

    return DemoOutbox(store)

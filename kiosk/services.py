"""The kiosk's long-lived parts (store, sessions, adapters), built once per app and reached through
`services()` in views. Nothing global but the app: tests build as many apps as they like."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property

from flask import Flask, current_app

from kiosk import logs
from kiosk.clock import Clock
from kiosk.identity.lockouts import LockingAccounts, Lockouts
from kiosk.settings import ConfigurationError, Settings
from kiosk.store import Store
from kiosk.web.sessions import ServerSession, ServerSideSessionInterface, SessionStore


@dataclass
class Services:
    settings: Settings
    store: Store
    sessions: SessionStore
    clock: Clock
    extras: dict = field(default_factory=dict)

    @classmethod
    def init_app(cls, app: Flask, settings: Settings, clock: Clock | None = None) -> "Services":
        store = Store(settings.database_path)
        store.migrate()
        clock = clock or Clock()
        sessions = SessionStore(
            idle_seconds=settings.idle_seconds,
            warning_seconds=settings.idle_warning_seconds,
            limit_seconds=settings.session_limit_seconds,
            clock=clock,
        )
        services = cls(settings=settings, store=store, sessions=sessions, clock=clock)
        services.refuse_demo_data_in_production()
        sessions.on_end.append(services._customer_session_ended)
        app.extensions["kiosk"] = services
        app.session_interface = ServerSideSessionInterface(sessions)
        return services

    # --- adapters, built on first use --------------------------------------------------------------

    @cached_property
    def directory(self):
        from kiosk.identity.limits import LimitedDirectory

        return LimitedDirectory(self._directory_adapter(), self.clock)

    def _directory_adapter(self):
        if self.settings.directory_url:
            from kiosk.identity import IdentityServiceUnavailable
            from kiosk.identity.http import HttpDirectory
            from kiosk.jsonhttp import JsonService

            return HttpDirectory(JsonService(self.settings.directory_url, IdentityServiceUnavailable),
                                 self.settings.customer_hash_key)
        from kiosk.identity.demo import DemoDirectory

        return DemoDirectory(self.store, self.settings.customer_hash_key)

    @cached_property
    def lockouts(self) -> Lockouts:
        return Lockouts(self.store)

    @cached_property
    def accounts(self) -> LockingAccounts:
        if self.settings.accounts_url:
            from kiosk.identity import IdentityServiceUnavailable
            from kiosk.identity.http import HttpAccounts
            from kiosk.jsonhttp import JsonService

            verifier = HttpAccounts(JsonService(self.settings.accounts_url, IdentityServiceUnavailable))
        else:
            from kiosk.identity.demo import DemoAccounts

            verifier = DemoAccounts(self.store, self.settings.customer_hash_key)
        return LockingAccounts(verifier, self.lockouts)

    @cached_property
    def code_sender(self):
        if self.settings.smtp_url:
            from kiosk.identity.smtp import SmtpCodeSender

            return SmtpCodeSender(self.settings.smtp_url, self.settings.mail_from)
        from kiosk.identity.demo import DemoOutbox

        return DemoOutbox(self.store)

    @cached_property
    def audit(self):
        from kiosk.store.audit import AuditLog

        return AuditLog(self.store)

    @cached_property
    def staff_gate(self):
        from kiosk.staff import StaffGate

        return StaffGate(self.store, clock=self.clock)

    @cached_property
    def issuance(self):
        from kiosk.pki.issuance import IssuanceService

        return IssuanceService.from_settings(self.settings, self.store)

    @cached_property
    def drives(self):
        from hardware import DriveManager

        manager = DriveManager.from_backend(self.settings.drives_backend, self.settings.data_dir)
        manager.start()
        return manager

    # --- kiosk state -------------------------------------------------------------------------------

    def refuse_demo_data_in_production(self) -> None:
        if self.settings.is_demo:
            return
        from kiosk.identity.demo import demo_customer_count

        if demo_customer_count(self.store):
            raise ConfigurationError(
                "KIOSK_MODE=production refuses to start: the database holds demo customers "
                f"({self.settings.database_path}); use a fresh KIOSK_DATA_DIR without `--demo`"
            )

    def state(self, name: str, default: str = "") -> str:
        row = self.store.query_one("SELECT value FROM kiosk_state WHERE name = ?", (name,))
        return row["value"] if row else default

    def set_state(self, name: str, value: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO kiosk_state(name, value) VALUES (?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (name, value))

    def out_of_service(self) -> bool:
        return self.state("out_of_service") == "1"

    def call_staff(self) -> None:
        self.set_state("staff_called", "1")
        logs.warning("session.staff_called")

    def reset_customer_sessions(self, reason: str) -> int:
        """Staff reset or out of service: every session with a customer in it ends and is wiped (the
        staff's own browser session, holding only its CSRF token, stays)."""
        customers = [sid for sid, entry in self.sessions.active() if entry.session.get("flow") is not None]
        for sid in customers:
            self.sessions.end(sid, reason)
        return len(customers)

    def drive_list_for_staff(self) -> list:
        try:
            return self.drives.drives()
        except Exception as exc:  # noqa: BLE001 - the console shows the problem instead of failing
            logs.error("drive.list_failed", error=type(exc).__name__, detail=str(exc))
            return []

    def end_customer_session(self, session: ServerSession, reason: str) -> None:
        if session.get("flow") is not None:
            self.sessions.end(session.sid, reason)
        session.clear()

    def _customer_session_ended(self, session: ServerSession, reason: str) -> None:
        flow = session.get("flow")
        if flow is None:
            return
        # the audit log is permanent: a session ending before anyone was identified holds nothing of a
        # customer, and auditing it let a flood of POST /start write thousands of rows (issue 20)
        had_customer = flow.customer is not None or flow.prepared is not None
        try:
            flow.abandon(self.issuance if flow.prepared is not None else None)
        finally:
            flow.wipe()
            logs.event("session.reset", reason=reason)
            if had_customer:
                self.audit.record("system", "session.reset", detail=f"reason={reason}")

    def prepare_to_serve(self) -> None:
        """Before the first customer: revoke what a crash left undelivered, start the drive watcher
        and the janitor that ends idle sessions."""
        revoked = self.issuance.revoke_undelivered()  # logs pki.undelivered_revoked
        if revoked:
            self.audit.record("system", "certificate.revoked", detail=f"undelivered_at_start={revoked}")
        self.extras["drives"] = self.drives  # started now, and watched by kiosk.watchdog's probe
        self.start_janitor()

    def start_janitor(self, interval: float = 5.0) -> threading.Event:
        """A thread that ends idle sessions even when nobody touches the screen; returns its stop flag."""
        stop = threading.Event()

        def run():
            while not stop.wait(interval):
                self.sessions.reap()

        threading.Thread(target=run, name="session-janitor", daemon=True).start()
        return stop


def services() -> Services:
    return current_app.extensions["kiosk"]

"""The kiosk's long-lived parts (store, sessions, adapters), built once per app and reached through
`services()` in views. Nothing global but the app: tests build as many apps as they like."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, current_app

from kiosk.sessions import ServerSideSessionInterface, SessionStore
from kiosk.settings import Settings
from kiosk.store import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    sessions: SessionStore
    extras: dict = field(default_factory=dict)

    @classmethod
    def init_app(cls, app: Flask, settings: Settings) -> "Services":
        store = Store(settings.database_path)
        store.migrate()
        sessions = SessionStore(
            idle_seconds=settings.idle_seconds,
            warning_seconds=settings.idle_warning_seconds,
            limit_seconds=settings.session_limit_seconds,
        )
        services = cls(settings=settings, store=store, sessions=sessions)
        app.extensions["kiosk"] = services
        app.session_interface = ServerSideSessionInterface(sessions)
        return services

    # --- PKI area: the IssuanceService, built on first use (kiosk.pki knows nothing of Flask) ---
    @property
    def issuance(self):
        if "issuance" not in self.extras:
            from kiosk.pki.issuance import IssuanceService

            self.extras["issuance"] = IssuanceService.from_settings(self.settings, self.store)
        return self.extras["issuance"]


def services() -> Services:
    return current_app.extensions["kiosk"]

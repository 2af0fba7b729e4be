"""The kiosk's own switches that outlive a restart: out of service, and a customer's call for staff."""

from __future__ import annotations

from kiosk import logs
from kiosk.store import Store


class KioskState:
    def __init__(self, store: Store):
        self.store = store

    def _get(self, name: str) -> str:
        row = self.store.query_one("SELECT value FROM kiosk_state WHERE name = ?", (name,))
        return row["value"] if row else ""

    def _set(self, name: str, value: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("INSERT INTO kiosk_state(name, value) VALUES (?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (name, value))

    @property
    def out_of_service(self) -> bool:
        return self._get("out_of_service") == "1"

    def set_out_of_service(self, out: bool) -> None:
        self._set("out_of_service", "1" if out else "0")

    @property
    def staff_called(self) -> bool:
        return self._get("staff_called") == "1"

    def call_staff(self) -> None:
        self._set("staff_called", "1")
        logs.warning("session.staff_called")

    def staff_answered(self) -> None:
        self._set("staff_called", "0")

"""Staff accounts and their sign-in: PINs hashed with Argon2; 5 failed sign-ins lock the console for
5 minutes; a staff session ends after 5 minutes without activity. No Flask here."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kiosk.clock import Clock
from kiosk.store import Store

STAFF_HASHER = PasswordHasher()
MAX_FAILURES = 5
LOCK_SECONDS = 300
IDLE_SECONDS = 300


class StaffSignInLocked(Exception):
    def __init__(self, seconds_left: int):
        super().__init__(seconds_left)
        self.seconds_left = seconds_left


def add_staff(store: Store, name: str, pin: str) -> None:
    if not (4 <= len(pin) <= 12 and pin.isdigit()):
        raise ValueError("a staff PIN is 4 to 12 digits")
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO staff(name, pin_hash, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET pin_hash = excluded.pin_hash",
            (name, STAFF_HASHER.hash(pin), datetime.now(timezone.utc).isoformat(timespec="seconds")),
        )


@dataclass
class StaffGate:
    """Sign-in with its lock, and the signed-in staff sessions (in memory, keyed by an opaque token)."""

    store: Store
    clock: Clock = field(default_factory=Clock)
    failures: int = 0
    locked_until: float = 0.0
    _sessions: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sign_in(self, name: str, pin: str) -> str | None:
        """A session token, None for a wrong name or PIN; raises StaffSignInLocked while locked."""
        with self._lock:
            left = self.locked_until - self.clock.now()
            if left > 0:
                raise StaffSignInLocked(int(left) + 1)
            if self._pin_matches(name, pin):
                self.failures = 0
                token = secrets.token_urlsafe(32)
                self._sessions[token] = (name, self.clock.now())
                return token
            self.failures += 1
            if self.failures >= MAX_FAILURES:
                self.failures = 0
                self.locked_until = self.clock.now() + LOCK_SECONDS
            return None

    def staff_for(self, token: str | None) -> str | None:
        """The signed-in staff name, refreshing the idle timer; None when unknown or idle too long."""
        with self._lock:
            entry = self._sessions.get(token or "")
            if entry is None:
                return None
            name, last = entry
            if self.clock.now() - last >= IDLE_SECONDS:
                del self._sessions[token]
                return None
            self._sessions[token] = (name, self.clock.now())
            return name

    def sign_out(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def _pin_matches(self, name: str, pin: str) -> bool:
        row = self.store.query_one("SELECT pin_hash FROM staff WHERE name = ?", (name,))
        if row is None:
            STAFF_HASHER.hash(pin)  # same time for unknown names: the timing does not tell who exists
            return False
        try:
            return STAFF_HASHER.verify(row["pin_hash"], pin)
        except (VerificationError, InvalidHashError):
            return False

"""Staff accounts and their sign-in: PINs hashed with Argon2; 5 failed sign-ins lock that staff name
for 5 minutes, then 10, 20, 40, 60 (per name, so that a stranger cannot lock everyone out; names that are
not staff are counted per source address instead); the counts live in SQLite and survive a restart.
A staff session ends after 5 minutes without activity. No Flask here."""

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
MAX_LOCK_SECONDS = 3600
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


class SignInLimits:
    """Failed sign-ins per subject (`name:…` or `source:…`), with back-off, in SQLite."""

    def __init__(self, store: Store, clock: Clock):
        self.store = store
        self.clock = clock

    def reserve(self, subject: str) -> int:
        """Count this try before its PIN is checked (concurrent tries cannot slip past the limit);
        0 when it may go ahead, else the seconds the subject stays locked (nothing counted)."""
        now = self.clock.wall()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT failures, locks, locked_until FROM staff_sign_in_limits WHERE subject = ?",
                               (subject,)).fetchone()
            failures, locks, locked_until = (row["failures"], row["locks"], row["locked_until"]) if row else (0, 0, 0)
            if locked_until > now:
                return int(locked_until - now) + 1
            failures += 1
            if failures >= MAX_FAILURES:
                locks += 1
                failures = 0
                locked_until = now + min(LOCK_SECONDS * 2 ** (locks - 1), MAX_LOCK_SECONDS)
            conn.execute(
                "INSERT INTO staff_sign_in_limits(subject, failures, locks, locked_until) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(subject) DO UPDATE SET failures = excluded.failures, locks = excluded.locks, "
                "locked_until = excluded.locked_until",
                (subject, failures, locks, locked_until))
        return 0

    def clear(self, subject: str) -> None:
        """A right PIN: the subject's failures and its back-off are forgotten."""
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM staff_sign_in_limits WHERE subject = ?", (subject,))


@dataclass
class StaffGate:
    """Sign-in with its limits, and the signed-in staff sessions (in memory, keyed by an opaque token)."""

    store: Store
    clock: Clock = field(default_factory=Clock)
    _sessions: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sign_in(self, name: str, pin: str, source: str = "") -> str | None:
        """A session token, None for a wrong name or PIN; raises StaffSignInLocked while this staff
        name (or, for a name that is not staff, this source address) is locked."""
        pin_hash = self._pin_hash(name)
        subject = f"name:{name}" if pin_hash is not None else f"source:{source or 'unknown'}"
        limits = SignInLimits(self.store, self.clock)
        seconds_locked = limits.reserve(subject)
        if seconds_locked:
            raise StaffSignInLocked(seconds_locked)
        if not self._pin_matches(pin_hash, pin):
            return None
        limits.clear(subject)
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[token] = (name, self.clock.now())
        return token

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

    def _pin_hash(self, name: str) -> str | None:
        row = self.store.query_one("SELECT pin_hash FROM staff WHERE name = ?", (name,))
        return None if row is None else row["pin_hash"]

    @staticmethod
    def _pin_matches(pin_hash: str | None, pin: str) -> bool:
        if pin_hash is None:
            STAFF_HASHER.hash(pin)  # same time for unknown names: the timing does not tell who exists
            return False
        try:
            return STAFF_HASHER.verify(pin_hash, pin)
        except (VerificationError, InvalidHashError):
            return False

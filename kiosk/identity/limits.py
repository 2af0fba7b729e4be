"""How fast the kiosk answers "no such customer": identity mismatches are counted kiosk-wide in a sliding
window, so that the identity step cannot be used to confirm a known person's resident number or ID-card
date by trying thousands of combinations (issue 20 measured about 200 a second)."""

from __future__ import annotations

import threading
from collections import deque
from datetime import date

from kiosk import logs
from kiosk.clock import Clock
from kiosk.identity.ports import Customer, CustomerDirectory, IdentityServiceUnavailable, WithdrawalAccount

MAX_MISMATCHES = 20
WINDOW_SECONDS = 300


class TooManyMismatches(IdentityServiceUnavailable):
    """The kiosk answered 'no such customer' too often lately: identity checks wait for the window to pass.
    The customer is told, as for a directory that does not answer, to try again later or call staff."""


class LimitedDirectory:
    """Any CustomerDirectory, with at most `limit` mismatches in any `window` seconds across all sessions.
    A match does not reset the count (a real customer between guesses must not reopen the door)."""

    def __init__(self, directory: CustomerDirectory, clock: Clock, limit: int = MAX_MISMATCHES,
                 window: float = WINDOW_SECONDS):
        self.directory = directory
        self.clock = clock
        self.limit = limit
        self.window = window
        self._mismatches: deque[float] = deque()
        self._paused_logged = False
        self._lock = threading.Lock()

    def __getattr__(self, name: str):
        """The adapter's own attributes (its HTTP service, for a technician's or a test's tuning)."""
        return getattr(self.directory, name)

    def find(self, name: str, rrn: str, id_kind: str, id_issue_date: date) -> Customer | None:
        with self._lock:
            now = self.clock.now()
            while self._mismatches and self._mismatches[0] <= now - self.window:
                self._mismatches.popleft()
            if len(self._mismatches) >= self.limit:
                if not self._paused_logged:
                    logs.warning("identity.mismatch_limit", mismatches=len(self._mismatches),
                                 window_seconds=int(self.window))
                    self._paused_logged = True
                raise TooManyMismatches(f"{self.limit} identity mismatches in {int(self.window)} s")
            self._paused_logged = False
        customer = self.directory.find(name, rrn, id_kind, id_issue_date)
        if customer is None:
            with self._lock:
                self._mismatches.append(self.clock.now())
        return customer

    def accounts(self, customer: Customer) -> list[WithdrawalAccount]:
        """Asked only for a customer already found: not an oracle, not counted."""
        return self.directory.accounts(customer)

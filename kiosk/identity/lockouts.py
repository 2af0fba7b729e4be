"""Consecutive account failures per customer, persisted so that a restart does not reset them.

A try is counted before it is checked (`reserve_try`), so that tries arriving at once can never check
more than the limit; within this process tries of one subject are also checked one at a time
(`one_try_at_a_time`), so each one is judged against the tries before it, as a bank's counter does. The
lock is declared by the limit-th *wrong* try (`record_wrong`), never by a try still being checked: the
right PIN on the 5th try succeeds (issue 26, item 1).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from kiosk.identity.ports import (
    MAX_ACCOUNT_FAILURES,
    AccountCheck,
    AccountVerifier,
    Customer,
    IdentityServiceUnavailable,
)
from kiosk.store import Store


class Lockouts:
    def __init__(self, store: Store, limit: int = MAX_ACCOUNT_FAILURES):
        self.store = store
        self.limit = limit
        # a fixed set of locks, chosen by the subject's hash: as many subjects as come, no table that grows
        self._stripes = [threading.Lock() for _ in range(32)]

    @contextmanager
    def one_try_at_a_time(self, subject: str) -> Iterator[None]:
        """Hold while one try of `subject` is counted, checked and settled."""
        with self._stripes[hash(subject) % len(self._stripes)]:
            yield

    def failures(self, customer_key: str) -> int:
        row = self.store.query_one("SELECT failures FROM lockouts WHERE customer_key = ?", (customer_key,))
        return row["failures"] if row else 0

    def is_locked(self, customer_key: str) -> bool:
        return self.failures(customer_key) >= self.limit

    def reserve_try(self, customer_key: str) -> int | None:
        """Count a try before its PIN is checked, in one statement: the lock check and the count are one
        atomic step across sessions and threads. Returns this try's place in the count (1..limit), or
        None when the customer is locked and the PIN must not be checked at all."""
        row = self.store.execute(
            "INSERT INTO lockouts(customer_key, failures) VALUES (?, 1) "
            "ON CONFLICT(customer_key) DO UPDATE SET failures = failures + 1 WHERE failures < ? "
            "RETURNING failures",
            (customer_key, self.limit),
        ).fetchone()
        return None if row is None else row[0]

    def record_wrong(self, customer_key: str) -> int:
        """The try counted by `reserve_try` was wrong: returns the tries left; at 0 the lock is declared
        (and stays until staff lift it)."""
        left = self.tries_left(customer_key)
        if left == 0:
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            self.store.execute("UPDATE lockouts SET locked_at = coalesce(locked_at, ?) WHERE customer_key = ?",
                               (now, customer_key))
        return left

    def record_failure(self, customer_key: str) -> int:
        """One more failure counted (staff tools and tests); returns the tries left (0: locked)."""
        self.reserve_try(customer_key)
        return self.record_wrong(customer_key)

    def release_try(self, customer_key: str) -> None:
        """The try counted by `reserve_try` was never checked (the bank's service did not answer)."""
        with self.store.transaction() as conn:
            conn.execute("UPDATE lockouts SET failures = max(failures - 1, 0), locked_at = CASE "
                         "WHEN failures - 1 < ? THEN NULL ELSE locked_at END WHERE customer_key = ?",
                         (self.limit, customer_key))
            conn.execute("DELETE FROM lockouts WHERE customer_key = ? AND failures = 0", (customer_key,))

    def settle_success(self, customer_key: str, place: int) -> bool:
        """The try counted at `place` had the right PIN: it and the failures counted before it are
        forgiven (the rule is 5 *consecutive* failures), the tries counted after it stay. Returns False
        when a wrong try declared the lock meanwhile: a lock is lifted only by staff, never by a PIN."""
        with self.store.transaction() as conn:
            row = conn.execute("SELECT locked_at FROM lockouts WHERE customer_key = ?", (customer_key,)).fetchone()
            if row is None:
                return True  # staff unlocked meanwhile
            if row[0] is not None:
                return False
            conn.execute("UPDATE lockouts SET failures = max(failures - ?, 0) WHERE customer_key = ?",
                         (place, customer_key))
            conn.execute("DELETE FROM lockouts WHERE customer_key = ? AND failures = 0", (customer_key,))
        return True

    def tries_left(self, customer_key: str) -> int:
        return max(self.limit - self.failures(customer_key), 0)

    def reset(self, customer_key: str) -> bool:
        """A success, or staff unlocking after checking the customer's ID; True when one was locked."""
        was_locked = self.is_locked(customer_key)
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM lockouts WHERE customer_key = ?", (customer_key,))
        return was_locked

    def locked_keys(self) -> list[dict]:
        rows = self.store.query_all(
            "SELECT customer_key, failures, locked_at FROM lockouts WHERE failures >= ? ORDER BY locked_at",
            (self.limit,),
        )
        return [dict(row) for row in rows]


class LockingAccounts:
    """Any AccountVerifier, with the kiosk's own count of consecutive failures in front of it."""

    def __init__(self, verifier: AccountVerifier, lockouts: Lockouts):
        self.verifier = verifier
        self.lockouts = lockouts

    def is_locked(self, customer: Customer) -> bool:
        return self.lockouts.is_locked(customer.customer_key)

    def verify(self, customer: Customer, account: str, pin: str) -> AccountCheck:
        """Count the try first, then check: concurrent tries can never check more than the limit."""
        key = customer.customer_key
        with self.lockouts.one_try_at_a_time(key):
            place = self.lockouts.reserve_try(key)
            if place is None:
                return AccountCheck(ok=False, locked=True, tries_left=0, checked=False)
            try:
                right = self.verifier.check(customer, account, pin)
            except IdentityServiceUnavailable:
                self.lockouts.release_try(key)
                raise
            if right:
                if self.lockouts.settle_success(key, place):
                    return AccountCheck(ok=True, locked=False, tries_left=self.lockouts.limit)
                return AccountCheck(ok=False, locked=True, tries_left=0)
            tries_left = self.lockouts.record_wrong(key)
            return AccountCheck(ok=False, locked=tries_left == 0, tries_left=tries_left)

"""Consecutive account failures per customer, persisted so that a restart does not reset them."""

from __future__ import annotations

from datetime import datetime, timezone

from kiosk.identity.ports import MAX_ACCOUNT_FAILURES, AccountCheck, AccountVerifier, Customer
from kiosk.store import Store


class Lockouts:
    def __init__(self, store: Store, limit: int = MAX_ACCOUNT_FAILURES):
        self.store = store
        self.limit = limit

    def failures(self, customer_key: str) -> int:
        row = self.store.query_one("SELECT failures FROM lockouts WHERE customer_key = ?", (customer_key,))
        return row["failures"] if row else 0

    def is_locked(self, customer_key: str) -> bool:
        return self.failures(customer_key) >= self.limit

    def record_failure(self, customer_key: str) -> int:
        """One more failure; returns the tries left (0 means now locked)."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO lockouts(customer_key, failures) VALUES (?, 1) "
                "ON CONFLICT(customer_key) DO UPDATE SET failures = failures + 1",
                (customer_key,),
            )
            failures = conn.execute(
                "SELECT failures FROM lockouts WHERE customer_key = ?", (customer_key,)
            ).fetchone()[0]
            if failures >= self.limit:
                conn.execute(
                    "UPDATE lockouts SET locked_at = coalesce(locked_at, ?) WHERE customer_key = ?",
                    (now, customer_key),
                )
        return max(self.limit - failures, 0)

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
        key = customer.customer_key
        if self.lockouts.is_locked(key):
            return AccountCheck(ok=False, locked=True, tries_left=0)
        if self.verifier.check(customer, account, pin):
            self.lockouts.reset(key)
            return AccountCheck(ok=True, locked=False, tries_left=self.lockouts.limit)
        tries_left = self.lockouts.record_failure(key)
        return AccountCheck(ok=False, locked=tries_left == 0, tries_left=tries_left)

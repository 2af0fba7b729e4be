"""The identity ports. Adapters raise `IdentityServiceUnavailable` when the service cannot answer;
the journey then tells the customer to try again or call staff, and keeps their place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

MAX_ACCOUNT_FAILURES = 5


class IdentityServiceUnavailable(Exception):
    """The directory, the account service or the mail server did not answer in time."""


@dataclass(frozen=True)
class Customer:
    customer_key: str          # keyed hash of the resident number
    name: str
    english_name: str
    email: str
    reference: str = ""        # the bank's own opaque id for the customer (production adapters)


@dataclass(frozen=True)
class AccountCheck:
    ok: bool
    locked: bool
    tries_left: int
    checked: bool = True       # False: refused while locked, the PIN was never looked at


class CustomerDirectory(Protocol):
    def find(self, name: str, rrn: str, id_kind: str, id_issue_date: date) -> Customer | None:
        """The customer whose name, resident number and ID card all match, or None."""


class AccountVerifier(Protocol):
    def check(self, customer: Customer, account: str, pin: str) -> bool:
        """True when the withdrawal account is the customer's and the PIN is right.
        Consecutive failures are counted by `kiosk.identity.lockouts.LockingAccounts`."""


class CodeSender(Protocol):
    def send(self, recipient: str, subject: str, body: str) -> None:
        """Deliver one message or raise IdentityServiceUnavailable."""

"""The identity ports. Adapters raise `IdentityServiceUnavailable` when the service cannot answer;
the journey then tells the customer to try again or call staff, and keeps their place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum
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


@dataclass(frozen=True)
class WithdrawalAccount:
    """One of the customer's accounts, as the account list shows it and the PIN check takes it."""
    account: str               # digits only
    masked: str                # "012345-**-**4567"

    def __repr__(self) -> str:  # the number stays out of tracebacks and logs
        return f"WithdrawalAccount(masked={self.masked!r})"


def mask_account(account: str) -> str:
    """A Korea Post account (14 digits, 6-2-6) as `012345-**-**4567`; any other length keeps its first
    three and last four digits: `123*****4567`."""
    digits = re.sub(r"[^0-9]", "", account)
    if len(digits) == 14:
        return f"{digits[:6]}-**-**{digits[10:]}"
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def withdrawal_account(account: str) -> WithdrawalAccount:
    digits = re.sub(r"[^0-9]", "", account)
    return WithdrawalAccount(digits, mask_account(digits))


class CustomerDirectory(Protocol):
    def find(self, name: str, rrn: str, id_kind: str, id_issue_date: date) -> Customer | None:
        """The customer whose name, resident number and ID card all match, or None."""

    def accounts(self, customer: Customer) -> list[WithdrawalAccount]:
        """The customer's withdrawal accounts, in the bank's order (possibly none)."""


class IdCheckOutcome(str, Enum):
    """What the ID card authenticity service (신분증 진위확인) answers about a card."""
    MATCHES = "matches"                 # a card with exactly these fields was issued and is valid
    MISMATCH = "mismatch"               # no such card: a field differs, or a later card replaced it
    REPORTED_LOST = "reported_lost"     # the card was reported lost or stolen


class IdCardCheck(Protocol):
    def check(self, kind: str, name: str, rrn: str, issue_date: date, licence_number: str = "",
              licence_serial: str = "") -> IdCheckOutcome:
        """The service's answer about the card, or IdentityServiceUnavailable. `kind` is
        "resident_card" or "driver_license"; a driver's licence is checked with its number and serial."""


class AccountVerifier(Protocol):
    def check(self, customer: Customer, account: str, pin: str) -> bool:
        """True when the withdrawal account is the customer's and the PIN is right.
        Consecutive failures are counted by `kiosk.identity.lockouts.LockingAccounts`."""


class CodeSender(Protocol):
    def send(self, recipient: str, subject: str, body: str) -> None:
        """Deliver one message or raise IdentityServiceUnavailable."""

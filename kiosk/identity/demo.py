"""Demo adapters on SQLite: a handful of customers (README lists them), their accounts, their ID cards
as the authenticity service knows them (one reported lost), an outbox.

Only `kiosk init --demo` creates them; production refuses to start while any demo customer exists.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kiosk.identity.ports import Customer, IdCheckOutcome, WithdrawalAccount, withdrawal_account
from kiosk.pii import customer_key
from kiosk.store import Store

# argon2 with modest cost: a kiosk checks one PIN at a time, and tests run many
PIN_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def account_key(hash_key: str, account: str) -> str:
    return hmac.new(hash_key.encode(), b"account:" + digits(account).encode(), "sha256").hexdigest()[:32]


@dataclass(frozen=True)
class DemoCustomer:
    name: str
    english_name: str
    rrn: str
    id_kind: str
    id_issue_date: str
    email: str
    account: str
    pin: str
    licence_number: str = ""          # driver_license: as printed, NN-YY-NNNNNN-NN
    licence_serial: str = ""          # driver_license: the printed anti-forgery serial
    more_accounts: tuple[str, ...] = ()   # further withdrawal accounts, with the same PIN
    id_reported_lost: bool = False    # the authenticity service answers "reported lost" for this card

    @property
    def accounts(self) -> tuple[str, ...]:
        return (self.account, *self.more_accounts)


DEMO_CUSTOMERS = [
    DemoCustomer("홍길동", "HONG GILDONG", "900101-1234568", "resident_card", "2015-03-02",
                 "hong@example.com", "012345-01-234567", "1357", more_accounts=("012345-11-876543",)),
    DemoCustomer("김영희", "", "850505-2345674", "driver_license", "2019-07-15",
                 "younghee@example.com", "012345-02-345678", "2468",
                 licence_number="21-19-174133-02", licence_serial="K7WQ2M"),
    DemoCustomer("이철수", "LEE CHEOLSU", "771212-1345122", "resident_card", "2008-11-20",
                 "cheolsu@example.com", "012345-03-456789", "9512"),
    DemoCustomer("박서연", "PARK SEOYEON", "020304-3123457", "resident_card", "2021-01-11",
                 "seoyeon@example.com", "012345-04-567890", "7531"),
    DemoCustomer("존스미스", "JOHN SMITH", "880808-5566775", "resident_card", "2018-05-05",
                 "john@example.com", "012345-05-678901", "8642"),
    DemoCustomer("정하늘", "JUNG HANEUL", "910722-1453217", "resident_card", "2016-09-01",
                 "haneul@example.com", "012345-06-789012", "4826", id_reported_lost=True),
]


@lru_cache(maxsize=None)
def _demo_pin_hash(pin: str) -> str:
    return PIN_HASHER.hash(pin)


def seed_demo_customers(store: Store, hash_key: str) -> int:
    """Insert the demo customers that are missing, and bring the card and account details of those
    present up to date; returns how many customers were added (idempotent)."""
    added = 0
    with store.transaction() as conn:
        for c in DEMO_CUSTOMERS:
            key = customer_key(hash_key, c.rrn)
            cursor = conn.execute(
                "INSERT OR IGNORE INTO demo_customers(customer_key, name, english_name, id_kind, "
                "id_issue_date, email, account_key, pin_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, c.name, c.english_name, c.id_kind, c.id_issue_date,
                 c.email, account_key(hash_key, c.account), _demo_pin_hash(c.pin)),
            )
            added += cursor.rowcount
            conn.execute("UPDATE demo_customers SET licence_number = ?, licence_serial = ?, id_reported_lost = ? "
                         "WHERE customer_key = ?", (c.licence_number, c.licence_serial, int(c.id_reported_lost), key))
            for position, account in enumerate(c.accounts):
                conn.execute("INSERT OR IGNORE INTO demo_accounts(customer_key, position, account, pin_hash) "
                             "VALUES (?, ?, ?, ?)", (key, position, digits(account), _demo_pin_hash(c.pin)))
    return added


def demo_customer_count(store: Store) -> int:
    return store.query_one("SELECT count(*) FROM demo_customers")[0]


class DemoDirectory:
    def __init__(self, store: Store, hash_key: str):
        self.store = store
        self.hash_key = hash_key

    def find(self, name: str, rrn: str, id_kind: str, id_issue_date: date) -> Customer | None:
        row = self.store.query_one(
            "SELECT * FROM demo_customers WHERE customer_key = ?", (customer_key(self.hash_key, rrn),)
        )
        if row is None or row["name"] != name or row["id_kind"] != id_kind:
            return None
        if row["id_issue_date"] != id_issue_date.isoformat():
            return None
        return Customer(row["customer_key"], row["name"], row["english_name"], row["email"])

    def accounts(self, customer: Customer) -> list[WithdrawalAccount]:
        rows = self.store.query_all("SELECT account FROM demo_accounts WHERE customer_key = ? ORDER BY position",
                                    (customer.customer_key,))
        return [withdrawal_account(row["account"]) for row in rows]


class DemoIdCheck:
    """The authenticity service as it would answer for the demo customers' cards (`kiosk demo-cards`):
    every field must be the card's; a driver's licence's number and serial too. 정하늘's card is
    reported lost."""

    def __init__(self, store: Store, hash_key: str):
        self.store = store
        self.hash_key = hash_key

    def check(self, kind: str, name: str, rrn: str, issue_date: date, licence_number: str = "",
              licence_serial: str = "") -> IdCheckOutcome:
        row = self.store.query_one("SELECT * FROM demo_customers WHERE customer_key = ?",
                                   (customer_key(self.hash_key, rrn),))
        if (row is None or row["name"] != name or row["id_kind"] != kind
                or row["id_issue_date"] != issue_date.isoformat()):
            return IdCheckOutcome.MISMATCH
        if kind == "driver_license" and (digits(licence_number) != digits(row["licence_number"])
                                         or licence_serial.strip().upper() != row["licence_serial"]):
            return IdCheckOutcome.MISMATCH
        return IdCheckOutcome.REPORTED_LOST if row["id_reported_lost"] else IdCheckOutcome.MATCHES


class DemoAccounts:
    def __init__(self, store: Store, hash_key: str):
        self.store = store
        self.hash_key = hash_key

    def check(self, customer: Customer, account: str, pin: str) -> bool:
        """The PIN of one of the customer's demo accounts (demo_accounts), or of the account a customer
        seeded before those existed holds (demo_customers.account_key)."""
        row = self.store.query_one("SELECT pin_hash FROM demo_accounts WHERE customer_key = ? AND account = ?",
                                   (customer.customer_key, digits(account)))
        if row is None:
            row = self.store.query_one(
                "SELECT account_key, pin_hash FROM demo_customers WHERE customer_key = ?", (customer.customer_key,)
            )
            if row is None or not hmac.compare_digest(row["account_key"], account_key(self.hash_key, account)):
                _verify(row["pin_hash"] if row else _demo_pin_hash("0000"), pin)  # the same time either way
                return False
        return _verify(row["pin_hash"], pin)


def _verify(pin_hash: str, pin: str) -> bool:
    try:
        return PIN_HASHER.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


class DemoOutbox:
    """Demo mode's CodeSender: keeps the message for the staff console instead of sending it."""

    def __init__(self, store: Store):
        self.store = store

    def send(self, recipient: str, subject: str, body: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO demo_outbox(sent_at, recipient, subject, body) VALUES (?, ?, ?, ?)",
                (datetime.now(timezone.utc).isoformat(timespec="seconds"), recipient, subject, body),
            )

    def recent(self, limit: int = 10) -> list[dict]:
        rows = self.store.query_all("SELECT * FROM demo_outbox ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(row) for row in rows]

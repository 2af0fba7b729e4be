"""Production adapters: the bank's customer directory, account service and the ID card authenticity
service (신분증 진위확인) as HTTP JSON clients.

The contract (requests, responses, errors, timeouts) is docs/adapters.md; timeouts and retries are
`kiosk.jsonhttp.JsonService`'s, which raises IdentityServiceUnavailable for these.
"""

from __future__ import annotations

from datetime import date

from kiosk.identity.ports import (
    Customer,
    IdCheckOutcome,
    IdentityServiceUnavailable,
    WithdrawalAccount,
    withdrawal_account,
)
from kiosk.jsonhttp import JsonService
from kiosk.pii import customer_key


class HttpDirectory:
    def __init__(self, service: JsonService, hash_key: str):
        self.service = service
        self.hash_key = hash_key

    def find(self, name: str, rrn: str, id_kind: str, id_issue_date: date) -> Customer | None:
        answer = self.service.post("/customers/match", {
            "name": name, "rrn": rrn, "id_kind": id_kind, "id_issue_date": id_issue_date.isoformat(),
        })
        if not answer.get("match"):
            return None
        return Customer(customer_key(self.hash_key, rrn), answer["name"], answer.get("english_name", ""),
                        answer["email"], reference=answer["customer_id"])

    def accounts(self, customer: Customer) -> list[WithdrawalAccount]:
        answer = self.service.post("/customers/accounts", {"customer_id": customer.reference})
        listed = answer.get("accounts")
        if not isinstance(listed, list):
            raise IdentityServiceUnavailable("/customers/accounts: no list of accounts in the answer")
        accounts = []
        for entry in listed:
            number = entry.get("account") if isinstance(entry, dict) else None
            if not isinstance(number, str) or not 10 <= len(number) <= 16 or not number.isascii() \
                    or not number.isdigit():
                raise IdentityServiceUnavailable("/customers/accounts: an account that is not 10-16 digits")
            accounts.append(withdrawal_account(number))
        return accounts


class HttpAccounts:
    def __init__(self, service: JsonService):
        self.service = service

    def check(self, customer: Customer, account: str, pin: str) -> bool:
        answer = self.service.post("/accounts/verify", {
            "customer_id": customer.reference, "account": account, "pin": pin,
        })
        return bool(answer.get("ok"))


class HttpIdCheck:
    """신분증 진위확인 through the bank's gateway: the card's fields in, one of three outcomes out."""

    def __init__(self, service: JsonService):
        self.service = service

    def check(self, kind: str, name: str, rrn: str, issue_date: date, licence_number: str = "",
              licence_serial: str = "") -> IdCheckOutcome:
        request = {"kind": kind, "name": name, "rrn": rrn, "issue_date": issue_date.isoformat()}
        if kind == "driver_license":
            request.update(licence_number=licence_number, licence_serial=licence_serial)
        answer = self.service.post("/idcards/check", request)
        try:
            return IdCheckOutcome(answer.get("result"))
        except ValueError:
            raise IdentityServiceUnavailable("/idcards/check: an unknown result") from None

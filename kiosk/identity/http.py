"""Production adapters: the bank's customer directory and account service as HTTP JSON clients.

The contract (requests, responses, errors, timeouts) is docs/adapters.md; timeouts and retries are
`kiosk.jsonhttp.JsonService`'s, which raises IdentityServiceUnavailable for these two.
"""

from __future__ import annotations

from datetime import date

from kiosk.identity.ports import Customer
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


class HttpAccounts:
    def __init__(self, service: JsonService):
        self.service = service

    def check(self, customer: Customer, account: str, pin: str) -> bool:
        answer = self.service.post("/accounts/verify", {
            "customer_id": customer.reference, "account": account, "pin": pin,
        })
        return bool(answer.get("ok"))

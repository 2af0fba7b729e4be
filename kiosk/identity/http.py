"""Production adapters: the bank's customer directory and account service as HTTP JSON clients.

The contract (requests, responses, errors, timeouts) is docs/adapters.md. Each call has a short timeout;
a connection that fails before the request is sent is retried, a request the service may have seen is
not (an account check counts towards the customer's lockout on the bank's side too).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import date

from kiosk.identity.ports import Customer, IdentityServiceUnavailable
from kiosk.pii import customer_key


class JsonService:
    def __init__(self, base_url: str, timeout: float = 5.0, retries: int = 2, backoff: float = 0.2):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def post(self, path: str, payload: dict) -> dict:
        body = json.dumps(payload).encode()
        last_error: Exception | None = None
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(
                self.base_url + path, data=body, method="POST",
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as exc:
                if exc.code in (502, 503, 504) and attempt < self.retries:
                    last_error = exc
                else:
                    raise IdentityServiceUnavailable(f"{path}: HTTP {exc.code}") from exc
            except urllib.error.URLError as exc:
                if not isinstance(exc.reason, ConnectionRefusedError) or attempt >= self.retries:
                    raise IdentityServiceUnavailable(f"{path}: {exc.reason}") from exc
                last_error = exc
            except (TimeoutError, json.JSONDecodeError) as exc:
                raise IdentityServiceUnavailable(f"{path}: {type(exc).__name__}") from exc
            time.sleep(self.backoff * (attempt + 1))
        raise IdentityServiceUnavailable(f"{path}: {last_error}")


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

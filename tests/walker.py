"""Walk a customer through the journey with the Flask test client (the demo customers)."""

from __future__ import annotations

import re

from kiosk.identity.demo import DEMO_CUSTOMERS
from kiosk.wiring import Kiosk

HONG = DEMO_CUSTOMERS[0]
GOOD_PASSWORD = "Kiosk!2580x"


def identity_form(customer=HONG, **changes) -> dict:
    front, back = customer.rrn.split("-")
    form = {"name": customer.name, "rrn_front": front, "rrn_back": back, "id_kind": customer.id_kind,
            "issue_date": customer.id_issue_date.replace("-", "")}
    form.update(changes)
    return form


def last_code(app) -> str:
    """The code from the demo outbox (the staff console shows the same)."""
    body = app.extensions["kiosk"].code_sender.recent(1)[0]["body"]
    return re.search(r"\b(\d{6})\b", body).group(1)


class Walker:
    def __init__(self, app, client):
        self.app, self.client = app, client

    @property
    def services(self) -> Kiosk:
        return self.app.extensions["kiosk"]

    def post(self, path, data=None):
        return self.client.post(path, data=data or {})

    def start(self, service="new"):
        self.post("/start")
        return self.post("/journey/service", {"service": service})

    def to_identity(self, service="new"):
        self.start(service)
        return self.post("/journey/consent", {"terms": "y", "privacy": "y"})

    def to_account(self, customer=HONG, service="new"):
        self.to_identity(service)
        return self.post("/journey/identity", identity_form(customer))

    def to_email(self, customer=HONG, service="new"):
        self.to_account(customer, service)
        response = self.post("/journey/account", {"account": customer.account, "pin": customer.pin})
        self.client.get("/journey/email")
        return response

    def to_password(self, customer=HONG, service="new"):
        self.to_email(customer, service)
        return self.post("/journey/email", {"code": last_code(self.app)})

    def current_step(self):
        return self.visit().journey.current.value

    def visit(self):
        with self.client.session_transaction() as session:
            return session.get("visit")



"""The step route of a service, once (`route_to`), and a customer walking it with the Flask test client
(the demo customers). The other ways of driving the kiosk walk the same route: a browser over real HTTP
(tests/http_customer.py), the benchmarks' raw HTTP client (bench/latency.py, bench/startup.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

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


# each step, and the post that brings the customer to it from the step before
STEPS = ("service", "consent", "identity", "account", "email", "password", "drive")


def route_to(step: str, read_code: Callable[[], str], service: str = "new", customer=HONG,
             password: str = GOOD_PASSWORD) -> Iterator[tuple[str, dict]]:
    """The (path, form) posts that bring a fresh session from the attract screen to `step`'s page. Lazy:
    `read_code()` is called only when the e-mail step's post is due, after the account's post sent the
    mail. A reissue stops at its replace step after the e-mail post; the caller picks there."""
    posts = {
        "service": ("/start", dict),
        "consent": ("/journey/service", lambda: {"service": service}),
        "identity": ("/journey/consent", lambda: {"terms": "y", "privacy": "y"}),
        "account": ("/journey/identity", lambda: identity_form(customer)),
        "email": ("/journey/account", lambda: {"account": customer.account, "pin": customer.pin}),
        "password": ("/journey/email", lambda: {"code": read_code()}),
        "drive": ("/journey/password", lambda: {"password": password, "confirm": password}),
    }
    for name in STEPS[: STEPS.index(step) + 1]:
        path, form = posts[name]
        yield path, form()


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

    def walk(self, step: str, customer=HONG, service="new"):
        """Posts the route to `step`; returns the last post's response."""
        for path, form in route_to(step, lambda: last_code(self.app), service, customer):
            response = self.post(path, form)
        return response

    def start(self, service="new"):
        return self.walk("consent", service=service)

    def to_identity(self, service="new"):
        return self.walk("identity", service=service)

    def to_account(self, customer=HONG, service="new"):
        return self.walk("account", customer, service)

    def to_email(self, customer=HONG, service="new"):
        return self.walk("email", customer, service)

    def to_password(self, customer=HONG, service="new"):
        return self.walk("password", customer, service)

    def current_step(self):
        return self.visit().journey.current.value

    def visit(self):
        with self.client.session_transaction() as session:
            return session.get("visit")



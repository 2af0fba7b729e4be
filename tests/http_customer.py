"""A customer's browser over real HTTP (no JavaScript): cookies, CSRF tokens read from the pages,
redirects followed. Shared by the whole-journey tests and the fault-injection tests, which must go
through the real WSGI server (threads, sessions, CSRF) rather than the Flask test client."""

from __future__ import annotations

import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

import pytest

from tests.demo_drives import plug_in
from tests.walker import GOOD_PASSWORD, HONG, route_to


class Customer:
    """A customer's browser without JavaScript: cookies, CSRF tokens from the pages, redirects followed."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.token = ""
        self.page = ""
        self.url = ""
        self.status = 0
        self.statuses: list[int] = []

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return self._read(response)

    def post(self, path: str, data: dict | None = None) -> str:
        body = urllib.parse.urlencode({"csrf_token": self.token, **(data or {})}).encode()
        try:
            with self.opener.open(self.base + path, data=body, timeout=60) as response:
                return self._read(response)
        except urllib.error.HTTPError as error:
            if error.code in (422, 503):
                return self._read(error)
            raise

    def _read(self, response) -> str:
        self.url = response.geturl()
        self.status = response.status if hasattr(response, "status") else response.code
        self.statuses.append(self.status)
        self.page = response.read().decode()
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.page)
        if found:
            self.token = found.group(1)
        return self.page


def insert_drive(app, name="stick", **options):
    """Plug a demo stick in and wait until the kiosk's drive list shows it."""
    return plug_in(app.extensions["kiosk"], name, **options)


def walk_to_identity(customer: Customer, service="new") -> None:
    """From the attract screen to the identity step."""
    customer.get("/")
    for path, form in route_to("identity", read_code=None, service=service):
        customer.post(path, form)


def walk_to_drive(customer: Customer, read_code: Callable[[], str], service="new", person=HONG) -> None:
    """From the attract screen to the drive step; `read_code` returns the e-mailed code once it is sent."""
    customer.get("/")
    for path, form in route_to("password", read_code, service, person):
        if path == "/journey/email":
            assert customer.url.endswith("/journey/email"), customer.url
        customer.post(path, form)
    if service == "reissue":
        assert customer.url.endswith("/journey/replace")
        serial = re.search(r'name="serial" value="([0-9a-fA-F]+)"', customer.page).group(1)
        customer.post("/journey/replace", {"serial": serial})
    assert customer.url.endswith("/journey/password"), customer.url
    customer.post("/journey/password", {"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    assert customer.url.endswith("/journey/drive"), customer.url


def smtp_code(smtp_server, count: int) -> Callable[[], str]:
    """The code in the `count`-th mail the real SMTP server received."""
    def read() -> str:
        mail = smtp_server.wait_for(count)
        return re.search(r"\b(\d{6})\b", mail.get_content()).group(1)
    return read


def choose_drive(customer: Customer, drive_id: str) -> None:
    customer.post("/journey/drive", {"drive_id": drive_id})
    # a fast issuance may have finished before the redirect is followed: then the done page answers
    assert customer.url.endswith(("/journey/issuing", "/journey/done")), customer.url


def wait_for_issuing(customer: Customer, timeout: float = 60, interval: float = 0.1) -> None:
    """Poll the issuing status as the page's htmx does, and follow HX-Location where it sends us."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        request = urllib.request.Request(customer.base + "/journey/issuing/status", headers={"HX-Request": "true"})
        with customer.opener.open(request, timeout=30) as response:
            customer.statuses.append(response.status)
            if response.headers.get("HX-Location"):
                target = re.search(r'"path": "([^"]+)"', response.headers["HX-Location"]).group(1)
                customer.get(target)
                return
        time.sleep(interval)
    pytest.fail(f"issuance did not finish within {timeout} s")


def issue_to(customer: Customer, drive_id: str) -> None:
    choose_drive(customer, drive_id)
    wait_for_issuing(customer)


def issue_backdated(app, customer: Customer, drive_id: str, days_ago: int = 0) -> None:
    """A whole new issuance onto the stick, walked by `customer`, with the embedded CA's clock (tests/conftest.py
    `ca_clock`) set back `days_ago` days (a certificate near its expiry, for renewal); the customer then starts over."""
    import datetime

    from tests.walker import last_code

    ca_clock = app.extensions["test_ca_clock"]  # the clock the embedded CA behind the responder signs with
    ca_clock.shift = -datetime.timedelta(days=days_ago)
    try:
        walk_to_drive(customer, lambda: last_code(app))
        issue_to(customer, drive_id)
    finally:
        ca_clock.shift = datetime.timedelta(0)
    assert "USB를 빼셔도 됩니다" in customer.page
    customer.post("/reset")

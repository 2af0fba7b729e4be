"""Outside services that hang instead of failing fast: an SMTP server that never answers the message,
a customer directory that never answers the match. Through the real WSGI server: the customer gets a
plain message (never a 500, never a spinner forever), keeps their place, and goes on once the service
is back. The adapters' timeouts (10 s SMTP, 5 s directory) are shortened on the live adapter objects
to keep the suite fast; the code path — a socket timeout inside the real client — is the same."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import SmtpOutbox, send_json, start_smtp
from tests.http_customer import Customer, walk_to_identity
from tests.walker import HONG, identity_form

TIMEOUT = 1.0


class SlowSmtp(SmtpOutbox):
    """A real aiosmtpd handler that, while `slow` is set, sits on the message past the client's timeout
    and then refuses it (451), as an overloaded relay does."""

    def __init__(self):
        super().__init__()
        self.slow = True

    async def handle_DATA(self, server, session, envelope):
        if self.slow:
            await asyncio.sleep(TIMEOUT * 3)
            return "451 4.3.0 try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp():
    outbox = start_smtp(SlowSmtp())
    yield outbox
    outbox.controller.stop()


class Directory(BaseHTTPRequestHandler):
    """The bank's customer directory (docs/adapters.md), on loopback; hangs while `server.slow` is set."""

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/customers/accounts":     # the list of the customer's accounts, at once
            send_json(self, {"accounts": [{"account": HONG.account.replace("-", "")}]})
            return
        self.server.requests += 1
        if self.server.slow:
            time.sleep(TIMEOUT * 3)
        known = request["rrn"] == HONG.rrn.replace("-", "") and request["name"] == HONG.name
        answer = ({"match": True, "customer_id": "C-0001", "name": HONG.name,
                   "english_name": HONG.english_name, "email": HONG.email} if known else {"match": False})
        try:
            send_json(self, answer)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the kiosk gave up waiting, as it should

    def log_message(self, *args):
        pass


@pytest.fixture
def directory():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Directory)
    server.slow, server.requests = True, 0
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


class TestSlowSmtp:
    @pytest.fixture
    def app_config(self, app_config, slow_smtp):
        return {**app_config, "smtp_url": slow_smtp.url}

    def test_a_hanging_smtp_server_gives_a_message_and_the_resend_works_once_it_is_back(
            self, app, live_server, slow_smtp):
        app.extensions["kiosk"].code_sender.timeout = TIMEOUT
        customer = Customer(live_server.url)
        walk_to_identity(customer)
        customer.post("/journey/identity", identity_form())
        started = time.monotonic()
        customer.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})
        assert time.monotonic() - started < TIMEOUT + 2  # the customer waited for the timeout, no longer
        assert customer.url.endswith("/journey/email") and customer.status == 200
        assert "인증번호 메일을 보내지 못했습니다" in customer.page
        slow_smtp.slow = False
        customer.post("/journey/email/resend")
        assert customer.status == 200 and customer.url.endswith("/journey/email/resend")
        code = re.search(r"\b(\d{6})\b", slow_smtp.wait_for(1).get_content()).group(1)
        customer.post("/journey/email", {"code": code})
        assert customer.url.endswith("/journey/password"), customer.url


class TestDirectoryTimeout:
    @pytest.fixture
    def app_config(self, app_config, directory):
        return {**app_config, "directory_url": directory.url}

    def test_a_hanging_directory_gives_a_message_and_the_customer_keeps_their_place(
            self, app, live_server, directory):
        app.extensions["kiosk"].directory.service.timeout = TIMEOUT
        customer = Customer(live_server.url)
        walk_to_identity(customer)
        started = time.monotonic()
        customer.post("/journey/identity", identity_form())
        assert time.monotonic() - started < TIMEOUT + 2
        assert directory.requests == 1  # a request the service may have seen is not retried
        assert customer.status == 422 and customer.url.endswith("/journey/identity")
        assert "지금 고객 정보를 확인할 수 없습니다" in customer.page
        customer.get("/journey/account")
        assert customer.url.endswith("/journey/identity")  # no step skipped on the way
        directory.slow = False
        customer.post("/journey/identity", identity_form())
        assert customer.url.endswith("/journey/account"), customer.url
        customer.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})
        assert customer.url.endswith("/journey/email"), customer.url

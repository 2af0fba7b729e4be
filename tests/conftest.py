"""Shared fixtures: a real SQLite file per test, the app, a real waitress server on a free loopback port,
a real SMTP server (aiosmtpd) on loopback, and a Chromium page (Playwright, touch, the kiosk's screen).

A test that cannot run here fails with the reason (what to install), it is never skipped silently.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from kiosk.web import create_app
from tests.tools import require_command

# Tests pin behaviour, never speed: Hypothesis' timing checks (deadline, too_slow) would fail on a busy
# two-core CI machine for reasons that have nothing to do with the code under test.
settings.register_profile("kiosk", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("kiosk")

KIOSK_SCREEN = {"width": 1080, "height": 1920}  # portrait 1080x1920, UX.md
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def send_json(handler, answer, status: int = 200) -> None:
    """Answer a test service's request (http.server) with JSON; a str goes out as it is (broken answers)."""
    body = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path


@pytest.fixture
def app_config(data_dir) -> dict:
    """Overrides for create_app; tests extend it (``app_config["idle_seconds"] = 5``) before `app`."""
    return {"data_dir": data_dir, "mode": "demo", "TESTING": True, "WTF_CSRF_ENABLED": False}


@pytest.fixture(scope="session")
def ca_template(tmp_path_factory) -> Path:
    """One embedded demo CA per test session (creating one generates two RSA keys), copied where needed."""
    from kiosk.pki.embedded import EmbeddedCA
    from kiosk.settings import DEMO_CA_PASSPHRASE

    directory = tmp_path_factory.mktemp("ca-template") / "ca"
    EmbeddedCA.create(directory, DEMO_CA_PASSPHRASE, demo=True)
    return directory


@pytest.fixture(scope="session")
def cmp_signer(ca_template):
    """One CMP signer certificate for the session: every test's CA is a copy of the template, and making
    a signer key per responder would cost an RSA key generation per test."""
    from kiosk.pki.cmp.server import cmp_signer as make_signer
    from kiosk.pki.embedded import EmbeddedCA, Profile, utcnow
    from kiosk.settings import DEMO_CA_PASSPHRASE

    issuer = EmbeddedCA(ca_template, DEMO_CA_PASSPHRASE, None, Profile("", "KPB", "11"))._issuer_parts()
    return make_signer(issuer.certificate, issuer.key, utcnow())


@pytest.fixture
def ca_clock():
    """The date the test's CA signs with: now, unless a test sets it back (http_customer.issue_backdated)."""
    from kiosk.clock import ShiftedClock

    return ShiftedClock()


@pytest.fixture
def ca_responder(app_config, ca_template, cmp_signer, ca_clock):
    """The embedded CA's CMP responder (`kiosk ca serve`'s) on this test's copy of the demo CA, on a free
    loopback port: the app asks it over CMP, as a kiosk asks its CA process (KIOSK_CA_LISTEN)."""
    from kiosk.commands.pki import responder
    from kiosk.pki.cmp.serving import CmpHttpServer
    from kiosk.settings import Settings

    ca_dir = Path(app_config["data_dir"]) / "ca"
    if not ca_dir.exists():
        shutil.copytree(ca_template, ca_dir)
    settings = Settings().with_overrides(**{k: v for k, v in app_config.items() if k.islower()})
    server = CmpHttpServer(responder(settings, signer=cmp_signer, clock=ca_clock)).start()
    server.responder.refresh_crl()  # as `kiosk ca serve` does when it starts
    app_config["ca_listen"] = f"127.0.0.1:{server.port}"
    yield server.responder
    server.stop()
    server.responder.ca.store.close_all()


@pytest.fixture
def app(app_config, ca_responder, ca_clock):
    """The app on a fresh SQLite file, with the demo CA (answering over CMP) and the demo customers
    (README) in it."""
    from kiosk.identity.demo import seed_demo_customers

    app = create_app(app_config)
    app.extensions["test_ca_clock"] = ca_clock  # a test may set back the date the CA signs (http_customer.py)
    services = app.extensions["kiosk"]
    seed_demo_customers(services.store, services.settings.customer_hash_key)
    yield app
    # a suite of hundreds of apps must not pile up threads and descriptors
    services.close()


@pytest.fixture
def walker(app, client):
    from tests.walker import Walker

    return Walker(app, client)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    from click.testing import CliRunner

    return CliRunner()


class LiveServer:
    def __init__(self, app):
        from kiosk.server import make_server

        self.app = app
        self.server = make_server(app, "127.0.0.1", 0, threads=8)  # configured as in a branch
        self.port = self.server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)

    def start(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.02)
        pytest.fail("the test server did not start")

    def stop(self):
        self.server.close()
        self.server.task_dispatcher.shutdown()  # its worker threads, and their SQLite connections
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app):
    app.config["WTF_CSRF_ENABLED"] = True  # the real server checks CSRF as in a branch
    server = LiveServer(app).start()
    yield server
    server.stop()


class SmtpOutbox:
    """What a real aiosmtpd server on loopback received."""

    def __init__(self):
        self.messages = []
        self.received = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.received:
            self.messages.append(message)
            self.received.notify_all()
        return "250 OK"

    def wait_for(self, count: int = 1, timeout: float = 10):
        with self.received:
            if not self.received.wait_for(lambda: len(self.messages) >= count, timeout):
                pytest.fail(f"expected {count} e-mail(s), the SMTP server received {len(self.messages)}")
            return self.messages[count - 1]


def start_smtp(handler):
    """A real aiosmtpd server on a free loopback port; `handler.url` and `.controller` are set."""
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.url = f"smtp://127.0.0.1:{controller.port}"
    handler.controller = controller
    return handler


@pytest.fixture
def smtp_server():
    outbox = start_smtp(SmtpOutbox())
    yield outbox
    outbox.controller.stop()


@pytest.fixture(scope="session")
def chromium():
    require_command("chromium", "chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A touch page at the kiosk's screen size, on the live server."""
    context = chromium.new_context(
        viewport=KIOSK_SCREEN, has_touch=True, is_mobile=False, locale="ko-KR", base_url=live_server.url
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()

"""Mail, sessions and health as an outside probe met them (issue 26, items 9 and 10), over real HTTP with
the session clock moved by hand: a mail server that drips, a visit wiped while its code was being sent,
/healthz/live behind sixteen slow /healthz, and the screen report that kept abandoned visits alive and
that any local client could send. The mail servers are real sockets on loopback."""

from __future__ import annotations

import asyncio
import socketserver
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.conftest import SmtpOutbox, start_smtp
from tests.http_customer import Customer, walk_to_identity
from tests.walker import HONG, identity_form

DRIP_SECONDS = 8.0  # how long the dripping server goes on before it gives up by itself


class Drip(socketserver.BaseRequestHandler):
    """An SMTP server that never finishes its greeting: one byte of a never-ending multi-line 220 every
    0.2 s, each well inside any socket timeout. Records whether the client hung up first."""

    def handle(self):
        banner = b"220-drip.example slow\r\n" * 1000
        ended = time.monotonic() + DRIP_SECONDS
        try:
            for byte in banner:
                if time.monotonic() > ended:
                    return
                self.request.sendall(bytes([byte]))
                time.sleep(0.2)
        except OSError:
            self.server.cut_by_client += 1


@pytest.fixture
def drip():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads, server.cut_by_client = True, 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"smtp://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


class TestDrippingMailServer:
    @pytest.fixture
    def app_config(self, app_config, drip):
        return {**app_config, "smtp_url": drip.url}

    def test_the_send_is_cut_off_at_its_deadline_and_the_customer_told(self, app, live_server, drip):
        sender = app.extensions["kiosk"].code_sender
        sender.timeout, sender.deadline = 1.0, 2.0  # short, to keep the suite fast; same code path
        customer = Customer(live_server.url)
        walk_to_identity(customer)
        customer.post("/journey/identity", identity_form(HONG))
        customer.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})
        assert customer.url.endswith("/journey/email") and "인증번호 메일을 보내지 못했습니다" in customer.page
        deadline = time.monotonic() + 5
        while not drip.cut_by_client and time.monotonic() < deadline:
            time.sleep(0.1)
        assert drip.cut_by_client == 1, "the kiosk waited for the server to give up, not for its deadline"

    def test_live_answers_while_sixteen_health_reports_wait_on_the_mail_server(self, app, live_server):
        def health():
            try:
                urllib.request.urlopen(live_server.url + "/healthz", timeout=30).close()
            except (urllib.error.URLError, OSError):
                pass

        callers = [threading.Thread(target=health, daemon=True) for _ in range(16)]
        for caller in callers:
            caller.start()
        time.sleep(0.5)  # the sixteen are in
        try:
            with urllib.request.urlopen(live_server.url + "/healthz/live", timeout=4) as answer:
                assert answer.status == 200
        except TimeoutError:
            pytest.fail("/healthz/live queued behind /healthz past the watchdog's 5 s")
        for caller in callers:
            caller.join(30)


class HeldMail(SmtpOutbox):
    """A real aiosmtpd server that holds each message until the test lets it go."""

    def __init__(self):
        super().__init__()
        self.arrived, self.go = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.arrived.set()
        while not self.go.is_set():
            await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


class TestVisitEndsDuringTheSend:
    @pytest.fixture
    def held_mail(self):
        outbox = start_smtp(HeldMail())
        yield outbox
        outbox.go.set()
        outbox.controller.stop()

    @pytest.fixture
    def app_config(self, app_config, held_mail):
        return {**app_config, "smtp_url": held_mail.url}

    def test_a_visit_wiped_while_its_code_is_sent_is_never_touched_again(self, app, live_server, clock,
                                                                        held_mail, caplog):
        customer = Customer(live_server.url)
        walk_to_identity(customer)
        customer.post("/journey/identity", identity_form(HONG))
        answered = []
        at_the_account = threading.Thread(target=lambda: answered.append(
            customer.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})))
        at_the_account.start()
        assert held_mail.arrived.wait(10)
        clock.advance(200)  # idle past the warning, while the mail is on its way
        app.extensions["kiosk.sessions"].reap()
        held_mail.go.set()
        at_the_account.join(30)

        assert answered, "the request failed (a 500)"
        assert customer.status == 200 and 'action="/start"' in customer.page  # the attract screen
        assert not [r for r in caplog.records if r.levelname == "ERROR"]


def walk_to_identity_at(server_url: str) -> Customer:
    customer = Customer(server_url)
    walk_to_identity(customer)
    return customer


def report_screen(customer: Customer, headers: dict | None = None) -> int:
    request = urllib.request.Request(customer.base + "/healthz/screen", method="POST",
                                     data=f"csrf_token={customer.token}".encode(), headers=headers or {})
    try:
        with customer.opener.open(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_screen_report_does_not_keep_an_abandoned_visit_alive(app, live_server, clock):
    customer = walk_to_identity_at(live_server.url)
    idle = app.extensions["kiosk.sessions"].idle_seconds + app.extensions["kiosk.sessions"].warning_seconds
    for _ in range(int(idle // 10) + 2):
        clock.advance(10)
        report_screen(customer)  # as _page.html does, with the customer's cookie
    app.extensions["kiosk.sessions"].reap()
    customer.get("/journey/identity")
    assert not customer.url.endswith("/journey/identity"), "the visit outlived its idle limit"


@pytest.mark.parametrize("path", ["/healthz/screen", "/speech"])
def test_a_request_from_the_last_visit_answered_late_leaves_the_next_visits_cookie(app, live_server, path):
    """마치기 ends a visit; the attract page that follows sets the next visit's cookie; a request the old page
    sent by itself before (the screen report, its speech), its cookie the ended visit's, is answered after
    that. Its answer once deleted the browser's cookie, so the next form failed CSRF ("CSRF session token is
    missing", seen in the a11y walk with voice guidance on)."""
    customer = walk_to_identity_at(live_server.url)
    ended = {cookie.name: cookie.value for cookie in customer.jar}["kiosk_sid"]
    customer.post("/reset")  # 처음으로 / 마치기
    request = urllib.request.Request(customer.base + path, method="POST",
                                     data=f"csrf_token={customer.token}&text=a&lang=ko-KR".encode(),
                                     headers={"Cookie": f"kiosk_sid={ended}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            cookies = answer.headers.get_all("Set-Cookie") or []
    except urllib.error.HTTPError as error:
        cookies = error.headers.get_all("Set-Cookie") or []
    assert not [c for c in cookies if c.startswith("kiosk_sid=")], cookies


def test_the_pages_own_speech_does_not_keep_an_abandoned_visit_alive(app, live_server, clock):
    customer = walk_to_identity_at(live_server.url)
    idle = app.extensions["kiosk.sessions"].idle_seconds + app.extensions["kiosk.sessions"].warning_seconds
    for _ in range(int(idle // 10) + 2):
        clock.advance(10)
        speak = urllib.request.Request(customer.base + "/speech", method="POST", data=urllib.parse.urlencode(
            {"csrf_token": customer.token, "text": "계속 이용하시겠습니까?", "lang": "ko-KR"}).encode())
        try:  # as a11y.js does, with the cookie; once the visit is over, CSRF refuses it (400)
            customer.opener.open(speak, timeout=30).close()
        except urllib.error.HTTPError as error:
            assert error.code == 400
    app.extensions["kiosk.sessions"].reap()
    customer.get("/journey/identity")
    assert not customer.url.endswith("/journey/identity"), "the visit outlived its idle limit"


class TestScreenKey:
    KEY = "screen-key-only-the-browser-unit-knows"

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "screen_key": self.KEY}

    def seen(self, app) -> bool:
        return (app.extensions["kiosk"].settings.data_dir / "screen.seen").exists()

    def test_a_local_client_with_a_page_and_its_token_cannot_report_the_screen(self, app, live_server):
        stranger = Customer(live_server.url)
        stranger.get("/")
        assert report_screen(stranger) == 403 and not self.seen(app)
        stranger.get("/healthz/screen/enrol?key=a-guess")
        assert report_screen(stranger) == 403 and not self.seen(app)

    def test_the_kiosks_own_browser_enrols_once_and_reports(self, app, live_server):
        browser = Customer(live_server.url)
        browser.get(f"/healthz/screen/enrol?key={self.KEY}")
        assert browser.url == live_server.url + "/" and self.KEY not in browser.page
        assert report_screen(browser) == 204 and self.seen(app)


"""Idle drive-list streams cannot freeze the kiosk (issue 20, item 2): sockets that ask for
`/drives/stream` and then say nothing, against a real `kiosk serve` process (waitress, its 16 threads as
in a branch), and the systemd watchdog's probe going through the real listener."""

from __future__ import annotations

import socket
import threading
import urllib.request

import pytest

from kiosk.health import watchdog
from tests.conftest import LiveServer
from tests.ops.kiosk_process import KioskProcess

IDLE_STREAMS = 24  # more than the server has threads


@pytest.fixture
def kiosk(data_dir):
    process = KioskProcess(data_dir).start()
    process.wait_until_serving()
    yield process
    process.stop()


def open_idle_streams(port: int, count: int) -> list[socket.socket]:
    streams = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /drives/stream HTTP/1.1\r\nHost: kiosk\r\n\r\n")
        streams.append(sock)
    return streams


def answers(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        response.read()
        return response.status


def test_idle_drive_streams_leave_pages_and_the_health_check_answering(kiosk):
    streams = open_idle_streams(kiosk.port, IDLE_STREAMS)
    try:
        assert answers(kiosk.url + "/healthz/live") == 200
        assert answers(kiosk.url + "/") == 200
        assert answers(kiosk.url + "/static/css/kiosk.css") == 200
    finally:
        for sock in streams:
            sock.close()
    assert "<4>drive.stream_dropped" in kiosk.log(), "the oldest streams were dropped, and logged"


class SilentListener:
    """A port that accepts connections and never answers: a frozen server, as the watchdog would meet it."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.accepted.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self):
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def test_the_watchdog_asks_the_real_listener_and_withholds_the_ping_when_it_is_frozen(app):
    server = LiveServer(app).start()
    frozen = SilentListener()
    try:
        for port, healthy in ((server.port, True), (frozen.port, False)):
            app_answers = watchdog.answers_over_http(("127.0.0.1", port), watchdog.probe_timeout(interval=1))
            assert watchdog.Watchdog([("app", app_answers)], interval=1, notify=print).healthy() is healthy
    finally:
        frozen.close()
        server.stop()

"""systemd's side of the kiosk: READY=1 only once connections are accepted, WATCHDOG=1 only while healthy,
STOPPING=1 and a logged stop on SIGTERM. A real AF_UNIX datagram socket stands in for the manager."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import urllib.request

import pytest

from kiosk import logs
from kiosk.health import watchdog
from kiosk.settings import Settings
from kiosk.wiring import build
from tests.conftest import LiveServer, free_port
from tests.ops.kiosk_process import KioskProcess, NotifySocket


@pytest.fixture
def notify_socket(tmp_path):
    sock = NotifySocket(tmp_path / "notify")
    yield sock
    sock.close()


def test_ready_comes_after_the_server_accepts_connections(data_dir, notify_socket):
    kiosk = KioskProcess(data_dir, NOTIFY_SOCKET=str(notify_socket.path)).start()
    try:
        message = notify_socket.wait_for("READY=1")
        assert kiosk.accepts_connections(), "READY=1 was sent before the port accepted connections"
        assert f"STATUS=serving on 127.0.0.1:{kiosk.port}" in message
        with urllib.request.urlopen(kiosk.url + "/healthz/live") as response:
            assert response.status == 200
    finally:
        assert kiosk.stop() == 0
    assert "STOPPING=1" in notify_socket.receive(1)
    assert "<6>server.stopped" in kiosk.log()


def test_the_watchdog_is_fed_at_half_the_interval_while_healthy(data_dir, notify_socket):
    kiosk = KioskProcess(data_dir, NOTIFY_SOCKET=str(notify_socket.path), WATCHDOG_USEC="400000").start()
    try:
        notify_socket.wait_for("READY=1")
        pings = [m for m in notify_socket.receive(2.0) if m == "WATCHDOG=1"]
    finally:
        kiosk.stop()
    assert 6 <= len(pings) <= 14, f"expected a ping every 0.2 s for 2 s, got {len(pings)}"
    assert "<6>watchdog.started interval_ms=200" in kiosk.log()


def test_no_watchdog_when_systemd_meant_it_for_another_process(monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert watchdog.interval_from_env() is None
    monkeypatch.delenv("WATCHDOG_PID")
    assert watchdog.interval_from_env() == 0.2


class DriveWatcher:
    """A stand-in for the hardware side's watcher thread: only `is_alive` matters to the watchdog."""

    alive = True

    def is_alive(self):
        return self.alive


def probe_gauge(kiosk, probe: str) -> float | None:
    return kiosk.metrics.registry.get_sample_value("kiosk_watchdog_probe_healthy", {"probe": probe})


def test_pings_stop_while_the_kiosks_probe_fails_and_resume_after(data_dir, caplog, monkeypatch):
    kiosk = build(Settings(data_dir=data_dir))
    watcher = DriveWatcher()
    monkeypatch.setattr(kiosk, "drives", watcher)
    dog = watchdog.Watchdog(kiosk.health_probes(), interval=0.05, notify=print, gauge=kiosk.metrics.probe_healthy)
    with caplog.at_level(logging.INFO, logger=logs.LOGGER_NAME):
        assert dog.healthy() and probe_gauge(kiosk, "drives") == 1
        watcher.alive = False
        assert not dog.healthy() and not dog.healthy()
        assert probe_gauge(kiosk, "drives") == 0
        watcher.alive = True
        assert dog.healthy()
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("watchdog.probe_failed probe=drives reason=\"returned false\"") == 1
    assert "watchdog.recovered probe=drives" in messages


def test_a_probe_that_raises_withholds_the_ping(notify_socket, monkeypatch):
    def broken():
        raise ConnectionError("journey engine stuck")

    monkeypatch.setenv("NOTIFY_SOCKET", str(notify_socket.path))
    from kiosk.server import sd_notify

    dog = watchdog.Watchdog([("journey", broken)], interval=0.05, notify=sd_notify).start()
    try:
        assert notify_socket.receive(0.5) == []
    finally:
        dog.stop()


def test_the_app_probe_fails_when_the_app_cannot_answer(app):
    server = LiveServer(app).start()
    try:
        app_answers = watchdog.answers_over_http(("127.0.0.1", server.port), timeout=5)
        assert app_answers()
        kiosk = app.extensions["kiosk"]
        kiosk.store.path = kiosk.store.path.parent / "gone" / "x.sqlite3"
        kiosk.store.close_all()
        assert not app_answers()
    finally:
        server.stop()


def test_live_is_cheap_and_healthz_is_the_doctor(client):
    assert client.get("/healthz/live").get_json() == {"ok": True}
    body = client.get("/healthz").get_json()
    assert [c["name"] for c in body["checks"]][:2] == ["configuration", "database"]


def test_the_cas_responder_says_ready_only_once_it_answers_and_the_kiosks_child_never_speaks_for_it(
        data_dir, notify_socket):
    """cert-kiosk-ca.service is Type=notify: the kiosk's unit, ordered after it, must not start against a CA
    still making its keys. And `kiosk serve`'s own CA child (demo mode) must not send READY=1 for the kiosk."""
    env = {**os.environ, "KIOSK_MODE": "demo", "KIOSK_DATA_DIR": str(data_dir),
           "KIOSK_CA_LISTEN": f"127.0.0.1:{free_port()}", "PYTHONUNBUFFERED": "1"}
    subprocess.run([sys.executable, "-m", "kiosk", "ca", "init"], env=env, check=True, capture_output=True,
                   timeout=120)
    port = int(env["KIOSK_CA_LISTEN"].rpartition(":")[2])
    responder = subprocess.Popen([sys.executable, "-m", "kiosk", "ca", "serve"],
                                 env={**env, "NOTIFY_SOCKET": str(notify_socket.path)},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        message = notify_socket.wait_for("READY=1", timeout=60)
        socket.create_connection(("127.0.0.1", port), timeout=1).close()  # refused → READY came too early
        assert f"STATUS=answering CMP on http://127.0.0.1:{port}" in message
    finally:
        responder.terminate()
        assert responder.wait(timeout=20) == 0
    assert "STOPPING=1" in notify_socket.receive(1)

    kiosk = KioskProcess(data_dir, NOTIFY_SOCKET=str(notify_socket.path)).start()
    try:
        readies = [notify_socket.wait_for("READY=1")] + notify_socket.receive(2)
        assert [m for m in readies if "READY=1" in m] == [readies[0]]
        assert f"STATUS=serving on 127.0.0.1:{kiosk.port}" in readies[0]
    finally:
        assert kiosk.stop() == 0

"""The systemd watchdog: ping `WATCHDOG=1` only while every health probe passes, so that a kiosk whose app
or drive watcher has died is restarted by systemd (`WatchdogSec=` in systemd/cert-kiosk.service).

A probe is a callable returning True when healthy (or raising: that counts as unhealthy, with the reason
logged). Other areas add theirs at start-up: `watchdog.add_probe(app, "drives", watcher.is_alive)`.
"""

from __future__ import annotations

import http.client
import os
import threading
from typing import Any, Callable, Protocol

from kiosk import logs

Probe = Callable[[], bool]


class App(Protocol):
    """What the watchdog needs of the web app, and no more: its extensions (the wired kiosk, the registered
    probes) and an in-process client for the app probe. No Flask import here: the domain side stays
    Flask-free (tests/unit/test_layers.py), whichever app is handed in."""

    extensions: dict[str, Any]

    def test_client(self) -> Any: ...
PROBES_KEY = "kiosk_probes"


def add_probe(app: App, name: str, probe: Probe) -> None:
    app.extensions.setdefault(PROBES_KEY, []).append((name, probe))


def probes(app: App, address: tuple[str, int] | None = None, timeout: float = 5.0) -> list[tuple[str, Probe]]:
    """The built-in probes (the app answers; the drive watcher, if any, lives) and the registered ones."""
    return [("app", lambda: _app_answers(app, address, timeout)), ("drives", lambda: _drive_watcher_alive(app)),
            *app.extensions.get(PROBES_KEY, [])]


def _app_answers(app: App, address: tuple[str, int] | None = None, timeout: float = 5.0) -> bool:
    """The cheap health view, asked the way a customer's screen asks: over HTTP through the real listener
    (`address`), so that a server whose worker threads are all stuck stops the pings (issue 20: idle
    streams froze every page while an in-process probe still passed). Without an address (an app that
    serves nothing, in tests) the request goes in-process through the whole Flask stack."""
    if address is None:
        return app.test_client().get("/healthz/live").status_code == 200
    host, port = address
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/healthz/live", headers={"Connection": "close"})
        return connection.getresponse().status == 200
    finally:
        connection.close()


def probe_address(host: str, port: int) -> tuple[str, int]:
    """Where the probe connects for a server listening on `host` (a wildcard means this machine)."""
    return ("::1" if host == "::" else "127.0.0.1" if host in ("", "0.0.0.0") else host), port


def _drive_watcher_alive(app: App) -> bool:
    """The drive manager's watcher thread runs (it is started when the kiosk is wired)."""
    return bool(app.extensions["kiosk"].drives.is_alive())


def interval_from_env() -> float | None:
    """Seconds between pings (half of WATCHDOG_USEC), or None when systemd asked for no watchdog here,
    following sd_watchdog_enabled(3): WATCHDOG_PID, when set, must be this process."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1_000_000 / 2


class Watchdog:
    """A daemon thread that runs the probes every `interval` seconds and pings only when all pass."""

    def __init__(self, app: App, interval: float, notify: Callable[[str], bool],
                 address: tuple[str, int] | None = None):
        self.app = app
        self.interval = interval
        self.address = address  # the server's listener, which the app probe goes through
        self.notify = notify
        self._stop = threading.Event()
        self._failing: str | None = None
        self.thread = threading.Thread(target=self._loop, name="watchdog", daemon=True)

    def start(self) -> "Watchdog":
        logs.event("watchdog.started", interval_ms=int(self.interval * 1000))
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=self.interval + 5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self.healthy():
                self.notify("WATCHDOG=1")
            self._stop.wait(self.interval)

    def healthy(self) -> bool:
        """Run each probe; log a failure once when it starts and once when it ends (no log flood). Each
        result is also the probe's gauge for the fleet (kiosk_watchdog_probe_healthy)."""
        gauge = self.app.extensions["kiosk"].metrics.probe_healthy
        for name, probe in probes(self.app, self.address, timeout=max(1.0, min(self.interval, 5.0))):
            reason = _run_probe(probe)
            gauge.labels(name).set(0 if reason else 1)
            if reason:
                if self._failing != name:
                    logs.error("watchdog.probe_failed", probe=name, reason=reason)
                    self._failing = name
                return False
        if self._failing:
            logs.event("watchdog.recovered", probe=self._failing)
            self._failing = None
        return True


def _run_probe(probe: Probe) -> str:
    """'' when the probe passed, else why not. A probe that raises is a failed probe, never a dead thread."""
    try:
        return "" if probe() else "returned false"
    except Exception as exc:  # noqa: BLE001 - any error in a probe means unhealthy; the name is logged
        return type(exc).__name__

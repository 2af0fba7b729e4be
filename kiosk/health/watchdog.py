"""The systemd watchdog: ping `WATCHDOG=1` only while every health probe passes, so that a kiosk whose app
or drive watcher has died is restarted by systemd (`WatchdogSec=` in systemd/cert-kiosk.service).

A probe is a callable returning True when healthy (or raising: that counts as unhealthy, with the reason
logged). The watchdog is handed its probes and knows nothing of what they ask: kiosk/server.py gives it
the app probe (`answers_over_http`, through the server's own listener) and the kiosk's own
(`Kiosk.health_probes`: the drive watcher lives). No web framework here.
"""

from __future__ import annotations

import http.client
import os
import threading
from collections.abc import Callable, Sequence

from kiosk import logs

Probe = Callable[[], bool]


def answers_over_http(address: tuple[str, int], timeout: float) -> Probe:
    """The app probe: the cheap health view (/healthz/live), asked the way a customer's screen asks, over
    HTTP through the real listener, so that a server whose worker threads are all stuck stops the pings
    (issue 20: idle streams froze every page while an in-process probe still passed)."""
    host, port = address

    def app_answers() -> bool:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            connection.request("GET", "/healthz/live", headers={"Connection": "close"})
            return connection.getresponse().status == 200
        finally:
            connection.close()

    return app_answers


def probe_address(host: str, port: int) -> tuple[str, int]:
    """Where the probe connects for a server listening on `host` (a wildcard means this machine)."""
    return ("::1" if host == "::" else "127.0.0.1" if host in ("", "0.0.0.0") else host), port


def probe_timeout(interval: float) -> float:
    """A probe may take no longer than the interval between pings, and 1 to 5 s whatever it is."""
    return max(1.0, min(interval, 5.0))


def interval_from_env() -> float | None:
    """Seconds between pings (half of WATCHDOG_USEC), or None when systemd asked for no watchdog here,
    following sd_watchdog_enabled(3): WATCHDOG_PID, when set, must be this process."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1_000_000 / 2


class Watchdog:
    """A daemon thread that runs the probes every `interval` seconds and pings only when all pass. Each
    result is also set on `gauge` (labelled by the probe's name: kiosk_watchdog_probe_healthy, for the
    fleet) when one is given."""

    def __init__(self, probes: Sequence[tuple[str, Probe]], interval: float, notify: Callable[[str], bool],
                 gauge=None):
        self.probes = list(probes)
        self.interval = interval
        self.notify = notify
        self.gauge = gauge
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
        """Run each probe, stopping at the first that fails; log a failure once when it starts and once
        when it ends (no log flood)."""
        for name, probe in self.probes:
            reason = _run_probe(probe)
            if self.gauge is not None:
                self.gauge.labels(name).set(0 if reason else 1)
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

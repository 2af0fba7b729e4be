"""Serve the app through waitress (one process, a pool of threads, long-lived SSE streams), tell systemd
when it is ready (`Type=notify`), and keep its watchdog fed while the app is healthy (kiosk/health/watchdog.py).
The fleet's metrics have a listener of their own (docs/fleet.md), never a route of the customer's app."""

from __future__ import annotations

import logging
import signal
import threading
import time

from kiosk import logs
from kiosk.health.watchdog import Watchdog, answers_over_http, interval_from_env, probe_address, probe_timeout
from kiosk.sdnotify import sd_notify


def _stop_on_sigterm(signum, frame) -> None:
    """systemd stops the kiosk with SIGTERM: leave the server loop as Ctrl-C would, logging the stop."""
    raise KeyboardInterrupt


class QueueBacklogSummary(logging.Filter):
    """Waitress warns "Task queue depth is N" for every request that waits for a worker thread: a burst of
    a few hundred requests (a branch's screens at once) wrote thousands of lines and drowned the journal
    (issue 20). A backlog is normal under a burst and needs no action by itself; the kiosk logs it once
    per `interval` as `server.queue_backlog` instead, and drops waitress' own lines."""

    def __init__(self, interval: float = 60.0, clock=time.monotonic):
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._last = None
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            now = self.clock()
            if self._last is not None and now - self._last < self.interval:
                return False
            self._last = now
        depth = record.args[0] if isinstance(record.args, tuple) and record.args else 0
        logs.warning("server.queue_backlog", depth=depth, quiet_seconds=int(self.interval))
        return False


def summarise_queue_backlog() -> None:
    queue_logger = logging.getLogger("waitress.queue")
    if not any(isinstance(f, QueueBacklogSummary) for f in queue_logger.filters):
        queue_logger.addFilter(QueueBacklogSummary())


def make_server(app, host: str, port: int, threads: int):
    """The waitress server, bound and listening when this returns (so READY=1 after it is true).

    poll(), not select(): select() fails outright once a descriptor number passes 1024."""
    from waitress import create_server

    from kiosk.idcard import MAX_CAPTURE_BYTES

    summarise_queue_backlog()
    # Waitress reads a request's body before the app sees it, and spools one larger than inbuf_overflow
    # (512 KB by default) to a temporary file: an ID card's picture must never touch a disk (issue 25).
    # So no body larger than the largest the app takes (a capture) is read at all (413), and one up to
    # that size stays in memory.
    return create_server(app, host=host, port=port, threads=threads, ident="cert-kiosk",
                         asyncore_use_poll=True, channel_timeout=300, connection_limit=200,
                         max_request_body_size=MAX_CAPTURE_BYTES + 1, inbuf_overflow=2 * MAX_CAPTURE_BYTES)


def start_metrics(registry, host: str, port: int):
    """prometheus_client's own HTTP server (a daemon thread per scrape) on `host:port`, or None when it
    is off (port 0) or cannot listen. A taken port must not keep customers from being served: it is
    logged, and the fleet sees the kiosk as down (KioskDown, docs/fleet.md)."""
    if not port:
        return None
    from prometheus_client import start_http_server

    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        logs.error("metrics.listen_failed", host=host, port=port, error=str(exc))
        return None
    logs.event("metrics.listening", host=host, port=server.server_port)
    return server


def start_watchdog(kiosk, interval: float, address: tuple[str, int]) -> Watchdog:
    """systemd's watchdog, fed while the app answers through its own listener at `address` and the
    kiosk's own probes pass; each probe's result is a gauge for the fleet."""
    probes = [("app", answers_over_http(address, probe_timeout(interval))), *kiosk.health_probes()]
    return Watchdog(probes, interval, sd_notify, gauge=kiosk.metrics.probe_healthy).start()


def serve(app, host: str, port: int, threads: int, metrics_host: str = "127.0.0.1",
          metrics_port: int = 0) -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    server = make_server(app, host, port, threads)
    logs.event("server.ready", host=host, port=server.effective_port, threads=threads)
    sd_notify(f"READY=1\nSTATUS=serving on {host}:{server.effective_port}")
    kiosk = app.extensions["kiosk"]
    metrics = start_metrics(kiosk.metrics.registry, metrics_host, metrics_port)
    interval = interval_from_env()
    watchdog = start_watchdog(kiosk, interval, probe_address(host, server.effective_port)) if interval else None
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        sd_notify("STOPPING=1")
        if watchdog:
            watchdog.stop()
        if metrics:
            metrics.shutdown()
        logs.event("server.stopped")
        server.close()

"""Watching for drives: enumeration at start, then change events from a source (a pyudev Monitor for real
drives, a poll of the demo folder for demo drives), debounced so one stick gives one update.

A stick arrives as a burst (the disk, then each partition, then a `change` when udev has probed the
filesystem). The watcher waits for `quiet` seconds without events, but never more than `patience` after the
first one, then rescans: with the defaults a stick reaches subscribers well within 300 ms of its event.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from hardware.drives import Drive

Listener = Callable[[Callable[[], None]], Callable[[], None]]


class Watcher:
    """Runs `scan` after each debounced burst of events and hands the result to `on_change`."""

    def __init__(self, scan: Callable[[], list[Drive]], listen: Listener,
                 on_change: Callable[[list[Drive]], None], quiet: float = 0.04, patience: float = 0.15):
        self._scan = scan
        self._listen = listen
        self._on_change = on_change
        self._quiet = quiet
        self._patience = patience
        self._condition = threading.Condition()
        self._first_event: float | None = None
        self._last_event = 0.0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._stop_listening: Callable[[], None] | None = None

    def poke(self) -> None:
        """Called by the event source for every raw event; cheap and non-blocking."""
        with self._condition:
            now = time.monotonic()
            self._last_event = now
            if self._first_event is None:
                self._first_event = now
            self._condition.notify()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="drive-watcher", daemon=True)
        self._thread.start()
        self._stop_listening = self._listen(self.poke)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        if self._stop_listening is not None:
            self._stop_listening()
        with self._condition:
            self._stopping = True
            self._condition.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _wait_for_burst(self) -> bool:
        """Block until a burst of events has settled; False when stopping."""
        with self._condition:
            self._condition.wait_for(lambda: self._stopping or self._first_event is not None)
            while not self._stopping:
                now = time.monotonic()
                due = min(self._last_event + self._quiet, self._first_event + self._patience)
                if now >= due:
                    break
                self._condition.wait(due - now)
            self._first_event = None
            return not self._stopping

    def _run(self) -> None:
        while self._wait_for_burst():
            self._on_change(self._scan())


def udev_listener(context) -> Listener:
    """A pyudev Monitor on the block subsystem in its own thread (pyudev's MonitorObserver)."""
    import pyudev

    def listen(poke: Callable[[], None]) -> Callable[[], None]:
        monitor = pyudev.Monitor.from_netlink(context)
        monitor.filter_by("block")
        # receiving starts here, before listen() returns: the observer would start it only once its thread
        # ran, and a stick plugged in before then would be in neither the enumeration nor the events
        monitor.start()
        observer = pyudev.MonitorObserver(monitor, callback=lambda device: poke(), name="udev-monitor")
        observer.daemon = True
        observer.start()
        return observer.stop

    return listen


def polling_listener(signature: Callable[[], object], interval: float = 0.1) -> Listener:
    """For sources without events (demo folders, written by any process): poll a cheap signature."""

    def listen(poke: Callable[[], None]) -> Callable[[], None]:
        stopping = threading.Event()

        last = signature()  # the baseline is taken before listen() returns, so no change slips past

        def run() -> None:
            nonlocal last
            while not stopping.wait(interval):
                current = signature()
                if current != last:
                    last = current
                    poke()

        threading.Thread(target=run, name="demo-drive-poll", daemon=True).start()
        return stopping.set

    return listen



"""The live drive list: pushed over SSE (`/drives/stream`, htmx's SSE extension) as each stick comes and
goes, and served whole at `/drives/list` for htmx polling when the stream cannot be used."""

from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app, redirect, render_template, request, stream_with_context

from kiosk import logs
from kiosk.web.base import current_kiosk

bp = Blueprint("drives", __name__, url_prefix="/drives")

HEARTBEAT_SECONDS = 15


class LatestDrives:
    """A one-slot mailbox between the watcher thread and one stream: `put` never blocks, and a slow
    client only ever gets the newest list (older ones are dropped, not queued). `close` ends the stream."""

    def __init__(self):
        self._ready = threading.Event()
        self._drives = None
        self.closed = False

    def put(self, drives) -> None:
        self._drives = drives
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    def take(self, timeout: float):
        if not self._ready.wait(timeout):
            return None
        self._ready.clear()
        return self._drives


class StreamSlots:
    """Each open stream holds one of waitress' worker threads for as long as it lasts, so streams are
    bounded: at most `per_client` from one address and `total` in all, well under the thread count;
    a new stream ends the oldest (a screen that reconnects gets the newest, an idle socket is let go).
    Without this, 16 sockets that ask for a stream and say nothing more froze every page (issue 20)."""

    def __init__(self, total: int, per_client: int):
        self.total = max(1, total)
        self.per_client = max(1, per_client)
        self._open: list[tuple[str, LatestDrives]] = []
        self._lock = threading.Lock()

    def open(self, client: str, mailbox: LatestDrives) -> int:
        """Count `mailbox` in; returns how many older streams it ended."""
        with self._lock:
            dropped = []
            mine = [entry for entry in self._open if entry[0] == client]
            if len(mine) >= self.per_client:
                dropped.append(mine[0])
            others = [entry for entry in self._open if entry not in dropped]
            if len(others) >= self.total:
                dropped.append(others[0])
            for entry in dropped:
                self._open.remove(entry)
                entry[1].close()
            self._open.append((client, mailbox))
        return len(dropped)

    def close(self, mailbox: LatestDrives) -> None:
        with self._lock:
            self._open = [entry for entry in self._open if entry[1] is not mailbox]


_slots_lock = threading.Lock()


def _slots() -> StreamSlots:
    with _slots_lock:
        slots = current_app.extensions.get("drive_streams")
        if slots is None:
            threads = current_kiosk().settings.threads
            slots = current_app.extensions["drive_streams"] = StreamSlots(
                total=current_app.config.get("DRIVES_MAX_STREAMS", max(1, threads // 4)), per_client=2)
        return slots


def _manager():
    manager = current_kiosk().drives
    manager.start()  # lazily, on the first screen that needs drives; idempotent
    return manager


def _fragment(drives) -> str:
    """The list as the asking screen offers it: with ?reading=1 (a screen that only reads the stick) a
    write-protected stick can be picked too."""
    return render_template("drives/_list.html", drives=drives, reading=request.args.get("reading") == "1")


def _event(html: str) -> str:
    data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"event: drives\n{data}\n"


@bp.get("/list")
def drive_list():
    return _fragment(_manager().drives())


def _back() -> str:
    """Where the customer was (a path of this kiosk): the form's `back`, htmx's current URL, the referrer."""
    from urllib.parse import urlsplit

    for candidate in (request.form.get("back", ""), request.headers.get("HX-Current-URL", ""),
                      request.referrer or ""):
        parts = urlsplit(candidate)
        if parts.path.startswith("/") and not parts.path.startswith("//") and (
                not parts.netloc or parts.netloc == request.host):
            return parts.path
    return "/"


@bp.post("/repair")
def repair():
    """'USB 검사·복구하기' on a stick whose filesystem needs a repair (hardware.DriveManager.repair: udisks2's
    Filesystem.Repair, then Check). Back to the screen the customer was on, whose list shows the result."""
    from hardware import DriveError

    drive_id = request.form.get("repair_id", "")
    try:
        consistent = _manager().repair(drive_id)
    except DriveError as exc:
        logs.warning("drive.repair_refused", id=drive_id[:40], error=exc.code)
    else:
        logs.event("drive.repair_done", id=drive_id[:40], consistent=str(consistent).lower())
    return redirect(_back(), code=303)


@bp.get("/stream")
def stream():
    manager = _manager()
    mailbox = LatestDrives()
    heartbeat = current_app.config.get("DRIVES_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)
    slots = _slots()
    dropped = slots.open(request.remote_addr or "", mailbox)
    if dropped:
        logs.warning("drive.stream_dropped", streams=dropped, limit=slots.total)

    @stream_with_context
    def events():
        unsubscribe = manager.subscribe(mailbox.put)
        try:
            yield _event(_fragment(manager.drives()))
            while not mailbox.closed:
                drives = mailbox.take(heartbeat)
                if mailbox.closed:
                    return  # a newer stream took the slot: the worker thread goes back to the pool
                yield ": heartbeat\n\n" if drives is None else _event(_fragment(drives))
        finally:  # the server closes the generator when the client has gone
            unsubscribe()
            slots.close(mailbox)

    response = Response(events(), mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"
    response.headers["Cache-Control"] = "no-store"
    return response

"""The live drive list: pushed over SSE (`/drives/stream`, htmx's SSE extension) as each stick comes and
goes, and served whole at `/drives/list` for htmx polling when the stream cannot be used."""

from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app, render_template, stream_with_context

from kiosk.web.base import current_kiosk

bp = Blueprint("drives", __name__, url_prefix="/drives")

HEARTBEAT_SECONDS = 15


class LatestDrives:
    """A one-slot mailbox between the watcher thread and one stream: `put` never blocks, and a slow
    client only ever gets the newest list (older ones are dropped, not queued)."""

    def __init__(self):
        self._ready = threading.Event()
        self._drives = None

    def put(self, drives) -> None:
        self._drives = drives
        self._ready.set()

    def take(self, timeout: float):
        if not self._ready.wait(timeout):
            return None
        self._ready.clear()
        return self._drives


def _manager():
    manager = current_kiosk().drives
    manager.start()  # lazily, on the first screen that needs drives; idempotent
    return manager


def _fragment(drives) -> str:
    return render_template("drives/_list.html", drives=drives)


def _event(html: str) -> str:
    data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"event: drives\n{data}\n"


@bp.get("/list")
def drive_list():
    return _fragment(_manager().drives())


@bp.get("/stream")
def stream():
    manager = _manager()
    mailbox = LatestDrives()
    heartbeat = current_app.config.get("DRIVES_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)

    @stream_with_context
    def events():
        unsubscribe = manager.subscribe(mailbox.put)
        try:
            yield _event(_fragment(manager.drives()))
            while True:
                drives = mailbox.take(heartbeat)
                yield ": heartbeat\n\n" if drives is None else _event(_fragment(drives))
        finally:  # the server closes the generator when the client has gone
            unsubscribe()

    response = Response(events(), mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"
    response.headers["Cache-Control"] = "no-store"
    return response

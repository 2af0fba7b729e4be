"""Server-side sessions: the cookie carries an opaque id and nothing else; the state lives in memory.

Memory, not SQLite, on purpose: the journey holds the customer's private key and certificate password
for a few minutes, and those must never touch the kiosk's disk. A restart therefore starts every
customer over, which is the safe outcome anyway (an undelivered certificate is revoked at start-up).

A session ends when idle for longer than the idle limit plus the warning countdown, when it reaches the
hard limit, or when it is reset (by the customer, by staff, or after the done screen). What ending means
is decided here, once: a session with a customer's visit in it ends that visit through the customer flow
(`CustomerFlow.end_visit`: a write under way finishes, an undelivered certificate is revoked, secrets are
dropped), and then the session itself is wiped. A janitor thread ends idle sessions even when nobody
touches the screen.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Callable

from flask import Flask, current_app, request
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from kiosk.clock import Clock
from kiosk.journey.flow import CustomerFlow
from kiosk.metrics import CustomersCollector

COOKIE_NAME = "kiosk_sid"
VISIT = "visit"  # the session key of the customer's Visit
NOT_A_TOUCH = ("/healthz", "/static/", "/drives/", "/speech")  # requests the page makes by itself


def _is_touch(request) -> bool:
    """Only a customer's touch extends a visit: not a poll, not the page's own screen report, not the drive
    list's stream (issue 26, item 10: the screen report kept abandoned sessions alive)."""
    return request.headers.get("X-Kiosk-Poll") != "1" and not request.path.startswith(NOT_A_TOUCH)


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, sid: str, initial=None):
        def on_update(_):
            self.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.modified = False


@dataclass
class Entry:
    session: ServerSession
    created: float
    touched: float
    ended_reason: str | None = None
    extensions: int = 0


def wipe(data: dict) -> None:
    """Drop every reference the session holds, letting each value that knows how wipe itself first
    (docs/security.md, "What is wiped")."""
    for value in list(data.values()):
        if hasattr(value, "wipe"):
            value.wipe()
    data.clear()


@dataclass
class SessionStore:
    idle_seconds: float = 60
    warning_seconds: float = 20
    limit_seconds: float = 900
    clock: Clock = field(default_factory=Clock)
    on_end: list[Callable[[ServerSession, str], None]] = field(default_factory=list)

    def __post_init__(self):
        self._entries: dict[str, Entry] = {}
        self._lock = threading.RLock()

    def new(self) -> ServerSession:
        """A fresh session, kept only once something is stored in it (see `keep`)."""
        return ServerSession(secrets.token_urlsafe(32))

    def keep(self, session: ServerSession) -> None:
        now = self.clock.now()
        with self._lock:
            if session.sid not in self._entries:
                self._entries[session.sid] = Entry(session, created=now, touched=now)

    def get(self, sid: str | None, touch: bool = True) -> ServerSession | None:
        if not sid:
            return None
        with self._lock:
            entry = self._entries.get(sid)
            if entry is None:
                return None
            reason = self._expiry_reason(entry)
            if not reason:
                if touch:
                    entry.touched = self.clock.now()
                return entry.session
        self.end(sid, reason)
        return None

    def entry(self, sid: str) -> Entry | None:
        with self._lock:
            return self._entries.get(sid)

    def idle_for(self, sid: str) -> float:
        entry = self.entry(sid)
        return 0.0 if entry is None else self.clock.now() - entry.touched

    def extend(self, sid: str) -> bool:
        """The customer pressed "시간 연장": the idle timer starts again (the hard limit stays)."""
        entry = self.entry(sid)
        if entry is None:
            return False
        entry.touched = self.clock.now()
        entry.extensions += 1
        return True

    def end(self, sid: str, reason: str) -> None:
        """End one session. The `on_end` callbacks run outside the store's lock: ending a visit may wait
        for a write to a stick, and no other customer's request may wait behind it."""
        with self._lock:
            entry = self._entries.pop(sid, None)
        if entry is None:
            return
        entry.ended_reason = reason
        try:
            for callback in self.on_end:
                callback(entry.session, reason)
        finally:
            wipe(entry.session)

    def reap(self) -> list[str]:
        """End every session past its limits; the janitor thread and tests call this."""
        with self._lock:
            expired = [(sid, reason) for sid, entry in self._entries.items()
                       if (reason := self._expiry_reason(entry))]
        for sid, reason in expired:
            self.end(sid, reason)
        return [reason for _, reason in expired]

    def customers(self) -> list[tuple[str, Entry]]:
        """Sessions with a customer's visit in them (the staff's own browser sessions hold none)."""
        return [(sid, entry) for sid, entry in self.active() if entry.session.get(VISIT) is not None]

    def customer_count(self) -> int:
        return len(self.customers())

    def end_customer_sessions(self, reason: str) -> int:
        """Staff reset or out of service: every session with a customer's visit ends (the staff's own
        browser session, holding only its CSRF token, stays)."""
        customers = [sid for sid, _entry in self.customers()]
        for sid in customers:
            self.end(sid, reason)
        return len(customers)

    def end_visit(self, session: ServerSession, reason: str) -> None:
        """처음으로, or the done screen's countdown: this session's visit ends and the session is emptied."""
        if session.get(VISIT) is not None:
            self.end(session.sid, reason)
        session.clear()

    def start_janitor(self, interval: float = 5.0) -> threading.Event:
        """A thread that ends idle sessions even when nobody touches the screen; returns its stop flag."""
        stop = threading.Event()

        def run():
            while not stop.wait(interval):
                self.reap()

        threading.Thread(target=run, name="session-janitor", daemon=True).start()
        return stop

    def active(self) -> list[tuple[str, Entry]]:
        with self._lock:
            return list(self._entries.items())

    def _expiry_reason(self, entry: Entry) -> str | None:
        now = self.clock.now()
        if now - entry.created >= self.limit_seconds:
            return "hard_limit"
        if now - entry.touched >= self.idle_seconds + self.warning_seconds:
            return "idle"
        return None


def ending_visits(flow: CustomerFlow) -> Callable[[ServerSession, str], None]:
    """The `on_end` callback that ends a session's visit through the customer flow."""

    def end(session: ServerSession, reason: str) -> None:
        visit = session.get(VISIT)
        if visit is not None:
            flow.end_visit(visit, reason)

    return end


class ServerSideSessionInterface(SessionInterface):
    """Flask's `session` backed by a `SessionStore`; Flask-WTF keeps its CSRF token there too."""

    def __init__(self, store: SessionStore):
        self.store = store

    def open_session(self, app, request):
        sid = request.cookies.get(COOKIE_NAME)
        session = self.store.get(sid, touch=_is_touch(request))
        return session if session is not None else self.store.new()

    def save_session(self, app, session, response):
        if not isinstance(session, ServerSession):
            return
        if self.store.entry(session.sid) is None:
            # A cookie naming no session is left as it is, never deleted: the request may have left the
            # screen before a visit ended (a screen report, the page's speech) and be answered after the
            # next page set the new visit's cookie; deleting "its" cookie ended that new visit, and its
            # next form failed CSRF. An unknown sid is never taken up: it only opens a new session.
            if not (_is_touch(request) and session.modified and session):
                return
            self.store.keep(session)
        response.set_cookie(
            COOKIE_NAME,
            session.sid,
            httponly=True,
            samesite="Strict",
            secure=app.config.get("SESSION_COOKIE_SECURE", False),
            path="/",
        )
        response.vary.add("Cookie")


def init_app(app: Flask, settings, kiosk) -> SessionStore:
    """Sessions for this app: kept in memory, ended by the limits in `settings`, each customer's visit
    ended through `kiosk.flow`."""
    store = SessionStore(
        idle_seconds=settings.idle_seconds,
        warning_seconds=settings.idle_warning_seconds,
        limit_seconds=settings.session_limit_seconds,
        clock=kiosk.clock,
        on_end=[ending_visits(kiosk.flow)],
    )
    app.extensions["kiosk.sessions"] = store
    kiosk.metrics.add(CustomersCollector(store.customer_count))
    app.session_interface = ServerSideSessionInterface(store)
    return store


def session_store() -> SessionStore:
    return current_app.extensions["kiosk.sessions"]

"""Server-side sessions: the cookie carries an opaque id and nothing else; the state lives in memory.

Memory, not SQLite, on purpose: the journey holds the customer's private key and certificate password
for a few minutes, and those must never touch the kiosk's disk. A restart therefore starts every
customer over, which is the safe outcome anyway (an undelivered certificate is revoked at start-up).

A session ends when idle for longer than the idle limit plus the warning countdown, when it reaches the
hard limit, or when it is reset (by the customer, by staff, or after the done screen). Ending a session
calls the `on_end` callbacks (the journey revokes an undelivered certificate there) and then wipes it.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Callable

from flask import request
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from kiosk.clock import Clock

COOKIE_NAME = "kiosk_sid"


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
    """Overwrite mutable secret buffers before dropping references (best effort in Python)."""
    for value in list(data.values()):
        if isinstance(value, bytearray):
            value[:] = b"\0" * len(value)
        elif hasattr(value, "wipe"):
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
            if reason:
                self._end(sid, reason)
                return None
            if touch:
                entry.touched = self.clock.now()
            return entry.session

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
        with self._lock:
            self._end(sid, reason)

    def reap(self) -> list[str]:
        """End every session past its limits; the janitor thread and tests call this."""
        ended = []
        with self._lock:
            for sid, entry in list(self._entries.items()):
                reason = self._expiry_reason(entry)
                if reason:
                    self._end(sid, reason)
                    ended.append(reason)
        return ended

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

    def _end(self, sid: str, reason: str) -> None:
        entry = self._entries.pop(sid, None)
        if entry is None:
            return
        entry.ended_reason = reason
        try:
            for callback in self.on_end:
                callback(entry.session, reason)
        finally:
            wipe(entry.session)


class ServerSideSessionInterface(SessionInterface):
    """Flask's `session` backed by a `SessionStore`; Flask-WTF keeps its CSRF token there too."""

    def __init__(self, store: SessionStore):
        self.store = store

    def open_session(self, app, request):
        sid = request.cookies.get(COOKIE_NAME)
        # polling endpoints must not keep an abandoned session alive
        touch = request.headers.get("X-Kiosk-Poll") != "1"
        session = self.store.get(sid, touch=touch)
        return session if session is not None else self.store.new()

    def save_session(self, app, session, response):
        if not isinstance(session, ServerSession):
            return
        if self.store.entry(session.sid) is None:
            if not (session.modified and session):
                if COOKIE_NAME in request.cookies:
                    response.delete_cookie(COOKIE_NAME, path="/")
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

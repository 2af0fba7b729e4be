"""CodeSender over SMTP: `smtp://host:port` (loopback relay), `smtp+starttls://user:pass@host:587`,
or `smtps://user:pass@host:465` (implicit TLS). Timeouts are short: a customer is waiting.

A socket timeout bounds each wait, not the conversation: a server that drips a byte a second never
times out (issue 26: 132 s to the e-mail step). So a whole send also has a `deadline`, kept by a timer
that shuts the socket; it is shorter than the idle limit, so the visit outlives its own send.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from kiosk.identity.ports import IdentityServiceUnavailable

SCHEMES = {"smtp", "smtp+starttls", "smtps"}


class SmtpCodeSender:
    def __init__(self, url: str, sender: str, timeout: float = 10.0, deadline: float = 20.0):
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError(f"KIOSK_SMTP_URL must be one of {sorted(SCHEMES)}://host:port")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or {"smtp": 25, "smtp+starttls": 587, "smtps": 465}[parts.scheme]
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout
        self.deadline = deadline

    def send(self, recipient: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = subject
        message.set_content(body)
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise IdentityServiceUnavailable(f"smtp {self.host}:{self.port}: {type(exc).__name__}") from exc

    @contextlib.contextmanager
    def _connect(self) -> Iterator[smtplib.SMTP]:
        """A connected client, for at most `deadline` seconds from now (then its socket is shut)."""
        context = ssl.create_default_context()
        smtp = (smtplib.SMTP_SSL(timeout=self.timeout, context=context) if self.scheme == "smtps"
                else smtplib.SMTP(timeout=self.timeout))
        with within(smtp, self.deadline), smtp:
            smtp.connect(self.host, self.port)
            if self.scheme == "smtp+starttls":
                smtp.starttls(context=context)
            yield smtp

    def reachable(self) -> bool:
        try:
            with self._connect() as smtp:
                smtp.noop()
            return True
        except (OSError, smtplib.SMTPException):
            return False


@contextlib.contextmanager
def within(smtp: smtplib.SMTP, seconds: float) -> Iterator[None]:
    """Shut `smtp`'s socket once `seconds` have passed: whatever it waits for then fails (OSError or
    SMTPServerDisconnected), however slowly the server was answering."""
    def cut() -> None:
        sock = getattr(smtp, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(seconds, cut)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()

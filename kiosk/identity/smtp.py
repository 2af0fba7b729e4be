"""CodeSender over SMTP: `smtp://host:port` (loopback relay), `smtp+starttls://user:pass@host:587`,
or `smtps://user:pass@host:465` (implicit TLS). Timeouts are short: a customer is waiting."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from kiosk.identity.ports import IdentityServiceUnavailable

SCHEMES = {"smtp", "smtp+starttls", "smtps"}


class SmtpCodeSender:
    def __init__(self, url: str, sender: str, timeout: float = 10.0):
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

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.scheme == "smtps":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.scheme == "smtp+starttls":
            smtp.starttls(context=context)
        return smtp

    def reachable(self) -> bool:
        try:
            with self._connect() as smtp:
                smtp.noop()
            return True
        except (OSError, smtplib.SMTPException):
            return False

"""The e-mail code: 6 digits from `secrets`, valid 3 minutes, 5 tries, at most 3 resends 30 s apart."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from enum import Enum

from kiosk.clock import Clock

CODE_LIFETIME = 180
MAX_TRIES = 5
MAX_RESENDS = 3
RESEND_WAIT = 30


class CodeResult(str, Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    TOO_MANY_TRIES = "too_many_tries"


class ResendRefused(Exception):
    def __init__(self, reason: str, wait_seconds: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.wait_seconds = wait_seconds


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


@dataclass
class EmailChallenge:
    clock: Clock
    code: str = field(default_factory=new_code)
    sent_at: float = 0.0
    tries: int = 0
    resends: int = 0

    def __post_init__(self):
        self.sent_at = self.clock.now()

    @property
    def tries_left(self) -> int:
        return max(MAX_TRIES - self.tries, 0)

    @property
    def resends_left(self) -> int:
        return max(MAX_RESENDS - self.resends, 0)

    def seconds_left(self) -> int:
        return max(int(self.sent_at + CODE_LIFETIME - self.clock.now()), 0)

    def resend_wait(self) -> int:
        return max(int(self.sent_at + RESEND_WAIT - self.clock.now() + 0.999), 0)

    def check(self, typed: str) -> CodeResult:
        if self.tries >= MAX_TRIES:
            return CodeResult.TOO_MANY_TRIES
        if self.seconds_left() <= 0:
            return CodeResult.EXPIRED
        self.tries += 1
        if hmac.compare_digest(typed.encode(), self.code.encode()):
            return CodeResult.OK
        return CodeResult.TOO_MANY_TRIES if self.tries >= MAX_TRIES else CodeResult.WRONG

    def resend(self) -> str:
        """A new code (the old one stops working) with fresh tries; refused past the limits."""
        if self.resends >= MAX_RESENDS:
            raise ResendRefused("limit")
        wait = self.resend_wait()
        if wait > 0:
            raise ResendRefused("wait", wait)
        self.resends += 1
        self.code = new_code()
        self.sent_at = self.clock.now()
        self.tries = 0
        return self.code

    def wipe(self) -> None:
        self.code = ""

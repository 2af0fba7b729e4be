"""Time as the kiosk's rules see it, and the date certificates are signed with: one `Clock`, passed in.
Tests replace it with `ManualClock` and move it by hand, so that lockouts, code expiry and idle resets are
tested without sleeping; a certificate is back-dated by handing its CA a `ShiftedClock` (the demo's
expiring certificate, `kiosk drives --expiring-certificate`; renewal tests), never by patching the CA."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class Clock:
    def now(self) -> float:
        """Monotonic seconds: immune to the wall clock being set while a customer is at the screen."""
        return time.monotonic()

    def wall(self) -> float:
        """Seconds since the epoch, for deadlines kept in the database across restarts (a staff
        sign-in lock); setting the wall clock moves them, which is why customers' timers use `now`."""
        return time.time()

    def utcnow(self) -> datetime:
        """The wall clock as an aware UTC datetime, to the second: what certificates, CRLs and the
        registry are dated with (a certificate holds no fractions of a second)."""
        return datetime.fromtimestamp(self.wall(), UTC).replace(microsecond=0)


class ShiftedClock(Clock):
    """The wall clock moved by `shift` (a `timedelta`, changeable; negative is the past): a CA given this
    one signs certificates dated then. Its monotonic clock is the real one."""

    def __init__(self, shift: timedelta = timedelta(0)):
        self.shift = shift

    def wall(self) -> float:
        return time.time() + self.shift.total_seconds()


class ManualClock(Clock):
    def __init__(self, start: float = 1000.0):
        self.t = start

    def now(self) -> float:
        return self.t

    def wall(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

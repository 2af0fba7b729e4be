"""Time as the kiosk's rules see it. Tests replace `Clock` with `ManualClock` and move it by hand,
so that lockouts, code expiry and idle resets are tested without sleeping."""

from __future__ import annotations

import time


class Clock:
    def now(self) -> float:
        """Monotonic seconds: immune to the wall clock being set while a customer is at the screen."""
        return time.monotonic()

    def wall(self) -> float:
        """Seconds since the epoch, for deadlines kept in the database across restarts (a staff
        sign-in lock); setting the wall clock moves them, which is why customers' timers use `now`."""
        return time.time()


class ManualClock(Clock):
    def __init__(self, start: float = 1000.0):
        self.t = start

    def now(self) -> float:
        return self.t

    def wall(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

"""The one way tests wait for something another thread or process does: poll a check until it answers,
and fail naming what never happened. Never a timed assertion: the timeout is only how long to hope."""

from __future__ import annotations

import time

import pytest


def wait_for(check, what: str, timeout: float = 30.0, interval: float = 0.05):
    """`check()` until it returns something truthy, which is returned; fails after `timeout` seconds."""
    until, last = time.monotonic() + timeout, None
    while time.monotonic() < until:
        last = check()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"{what}: not so within {timeout} s (last: {last!r})")

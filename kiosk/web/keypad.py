"""The secure numeric keypad's layout: the server shuffles it, so a new order on every showing is a fact
the server decides (and a test can observe), not something a script in the page could skip.

Korean banks' keypads put the ten digits and two blank keys in a random order each time they appear, so
that smudges on the glass and people looking over the customer's shoulder reveal nothing about the PIN.
"""

from __future__ import annotations

import secrets

DIGITS = tuple("0123456789")
BLANKS = 2  # a 3x4 grid: ten digits and two keys that do nothing
BLANK = ""


def secure_keypad_layout() -> list[str]:
    """Twelve slots in a random order from the OS's CSPRNG: the ten digits and two blanks ("")."""
    slots = list(DIGITS) + [BLANK] * BLANKS
    secrets.SystemRandom().shuffle(slots)
    return slots

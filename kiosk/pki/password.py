"""The certificate password rules of NPKI.md, as a pure function the journey shows live.

At least 10 characters with a letter, a digit and a special character; `' " \\ |` are refused; no three
identical characters in a row; no three sequential characters (abc, cba, 123, 321).

Only printable ASCII is accepted (space, Hangul and control characters count as `forbidden_char`): other
banks' software turns the password into bytes in its own code page, and only ASCII is the same in all.
"""

from __future__ import annotations

import string

MIN_LENGTH = 10
REFUSED = frozenset("'\"\\|")
SPECIALS = frozenset(string.punctuation) - REFUSED
RULES = ("length", "letter", "digit", "special", "forbidden_char", "repeat", "sequence")


def unmet_rules(password: str) -> list[str]:
    """The codes of the rules `password` breaks, in the order of `RULES`; empty when it is acceptable."""
    broken = {
        "length": len(password) < MIN_LENGTH,
        "letter": not any(ch in string.ascii_letters for ch in password),
        "digit": not any(ch in string.digits for ch in password),
        "special": not any(ch in SPECIALS for ch in password),
        "forbidden_char": any(not _allowed(ch) for ch in password),
        "repeat": _has_repeat(password),
        "sequence": _has_sequence(password),
    }
    return [rule for rule in RULES if broken[rule]]


def _allowed(ch: str) -> bool:
    return "!" <= ch <= "~" and ch not in REFUSED


def _has_repeat(password: str) -> bool:
    return any(a == b == c for a, b, c in zip(password, password[1:], password[2:], strict=False))


def _has_sequence(password: str) -> bool:
    """Three letters or three digits whose code points go up or down by one (case-insensitive)."""
    folded = password.lower()
    for a, b, c in zip(folded, folded[1:], folded[2:], strict=False):
        same_class = (a + b + c).isdigit() or all(ch in string.ascii_lowercase for ch in a + b + c)
        step = ord(b) - ord(a)
        if same_class and step in (1, -1) and ord(c) - ord(b) == step:
            return True
    return False

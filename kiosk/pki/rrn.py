"""Resident registration number (주민등록번호) validation per NPKI.md.

The date and the gender digit are hard rules. The check digit is only a hint: numbers issued or changed
since 2020-10-05 carry random digits after the gender digit, so a failing checksum must not refuse anyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from kiosk.pki.errors import InvalidApplicant

_CENTURY = {
    "1": 1900,
    "2": 1900,
    "3": 2000,
    "4": 2000,
    "5": 1900,
    "6": 1900,
    "7": 2000,
    "8": 2000,
    "9": 1800,
    "0": 1800,
}
_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_SHAPE = re.compile(r"^([0-9]{6})[- ]?([0-9]{7})$")  # [0-9]: \d would take full-width digits


class InvalidResidentNumber(InvalidApplicant):
    """Not a possible resident number; `reason` is "format" (not 13 digits) or "date" (no such birth date).

    Every gender digit 0-9 exists (9/0: born in the 1800s), so the gender digit only picks the century."""

    def __init__(self, reason: str):
        super().__init__(f"not a valid resident registration number ({reason})")
        self.reason = reason


@dataclass(frozen=True)
class ResidentNumber:
    digits: str  # normalised: 13 digits, no hyphen
    birth_date: date
    foreign_resident: bool
    checksum_ok: bool

    def __repr__(self) -> str:  # never print the number itself, even in a traceback
        return f"ResidentNumber(birth_date={self.birth_date}, checksum_ok={self.checksum_ok})"


def parse_rrn(text: str, today: date | None = None) -> ResidentNumber:
    """Validate `YYMMDD-GNNNNNC` (hyphen optional) → ResidentNumber; raises InvalidResidentNumber."""
    match = _SHAPE.match((text or "").strip())
    if not match:
        raise InvalidResidentNumber("format")
    digits = match.group(1) + match.group(2)
    gender = digits[6]
    birth = _birth_date(digits[:6], _CENTURY[gender])
    if birth is None or birth > (today or date.today()):
        raise InvalidResidentNumber("date")
    return ResidentNumber(
        digits=digits,
        birth_date=birth,
        foreign_resident=gender in "5678",
        checksum_ok=checksum_ok(digits),
    )


def checksum_ok(digits: str) -> bool:
    """C = (11 − Σ wᵢ·dᵢ mod 11) mod 10 over the first 12 digits."""
    total = sum(int(d) * w for d, w in zip(digits[:12], _WEIGHTS, strict=True))
    return (11 - total % 11) % 10 == int(digits[12])


def _birth_date(yymmdd: str, century: int) -> date | None:
    try:
        return date(century + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError:
        return None

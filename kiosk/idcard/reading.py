"""What a read card gives the journey (`CardReading`), why it could not (`CardNotRead`), and turning
Tesseract's text into field values. No image library here: the web side imports this cheaply."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# the bound on one capture: a 1920×1080 camera frame is 0.2–0.6 MB as JPEG, up to 4 MB as PNG
MAX_CAPTURE_BYTES = 8 * 1024 * 1024
# the bound on its decoded size (a 12-megapixel phone photo fits; a decompression bomb does not)
MAX_CAPTURE_PIXELS = 16_000_000

REASONS = ("too_large", "not_an_image", "no_card", "unreadable")


class CardNotRead(Exception):
    """The capture gave nothing to show the customer. `reason`:
    - "too_large": more than MAX_CAPTURE_BYTES, or more than MAX_CAPTURE_PIXELS once decoded;
    - "not_an_image": not a JPEG or PNG, or a corrupt one;
    - "no_card": no card in the picture (nothing card-shaped, or nothing on it that a card carries);
    - "unreadable": a card, but neither its name nor its number could be read (glare, blur, distance).
    The message never holds anything read from the picture."""

    def __init__(self, reason: str):
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CardReading:
    kind: str                 # "resident_card" (주민등록증) | "driver_license" (운전면허증)
    name: str                 # Hangul name, NFC, no hanja; "" when not read
    rrn: str                  # 13 digits, no hyphen; "" when not read
    issue_date: date | None   # None when not read
    licence_number: str = ""  # driver_license: "NN-YY-NNNNNN-NN"
    licence_serial: str = ""  # driver_license: printed anti-forgery serial
    rrn_checksum_ok: bool | None = None   # hint only (numbers since 2020-10-05 carry none)

    def masked_rrn(self) -> str:
        """"900101-1******", or "" when the number was not read."""
        if len(self.rrn) != 13:
            return ""
        return f"{self.rrn[:6]}-{self.rrn[6]}******"

    def __repr__(self) -> str:  # never the name or the number, even in a traceback or a log
        return (f"CardReading(kind={self.kind!r}, name={'read' if self.name else 'missing'}, "
                f"rrn={self.masked_rrn() or 'missing'}, issue_date={'read' if self.issue_date else 'missing'})")


HANGUL_SYLLABLES = "".join(chr(c) for c in range(0xAC00, 0xD7A4))
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")
_CENTURY = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000,
            "9": 1800, "0": 1800}
_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def parse_name(text: str) -> str:
    """The Hangul name before any bracket (the hanja after it reads as noise): 2–5 syllables, or ""."""
    text = unicodedata.normalize("NFC", text or "")
    head = re.split(r"[(\[{（]", text, maxsplit=1)[0]
    runs = _HANGUL_RUN.findall(head.replace(" ", ""))
    if not runs:
        return ""
    name = max(runs, key=len)
    return name if 2 <= len(name) <= 5 else ""


def _birth_ok(digits: str) -> bool:
    try:
        date(_CENTURY[digits[6]] + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        return False
    return True


def parse_rrn(text: str) -> str:
    """13 digits whose first six are a date and seventh a sex digit, from `YYMMDD-GNNNNNN`; or ""."""
    digits = re.sub(r"[^0-9]", "", text or "")
    if len(digits) != 13 or not _birth_ok(digits):
        return ""
    return digits


def rrn_checksum_ok(rrn: str) -> bool | None:
    """The old check digit, as a hint only; None for a number without one to check."""
    if len(rrn) != 13 or not rrn.isdigit():
        return None
    check = (11 - sum(int(d) * w for d, w in zip(rrn[:12], _WEIGHTS, strict=True)) % 11) % 10
    return check == int(rrn[12])


def parse_issue_date(text: str, earliest: date = date(1968, 11, 21), today: date | None = None) -> date | None:
    """`YYYY. M. D.` (dots and spaces as printed, or lost) → a date between the first 주민등록증 and today."""
    parts = re.findall(r"[0-9]+", text or "")
    candidates = []
    if len(parts) >= 3:
        candidates.append((parts[0], parts[1], parts[2]))
    joined = "".join(parts)
    if len(joined) == 8:
        candidates.append((joined[:4], joined[4:6], joined[6:]))
    for year, month, day in candidates:
        try:
            found = date(int(year), int(month), int(day))
        except ValueError:
            continue
        if earliest <= found <= (today or date.today()):
            return found
    return None


_LICENCE = re.compile(r"([0-9]{2})-?([0-9]{2})-?([0-9]{6})-?([0-9]{2})")


def parse_licence_number(text: str) -> str:
    """`NN-YY-NNNNNN-NN` as printed (12 digits), or ""."""
    digits = re.sub(r"[^0-9]", "", text or "")
    if len(digits) != 12:
        return ""
    match = _LICENCE.fullmatch(digits)
    return "-".join(match.groups()) if match else ""


def parse_serial(text: str) -> str:
    """The printed serial: 5–8 capital letters and digits, or ""."""
    value = re.sub(r"[^0-9A-Z]", "", (text or "").upper())
    return value if 5 <= len(value) <= 8 else ""

"""TEMPORARY stand-in until the pki branch lands (replaced at merge)."""
from dataclasses import dataclass
from datetime import date


class InvalidRrn(ValueError):
    pass


@dataclass(frozen=True)
class Rrn:
    digits: str
    birth_date: date
    checksum_ok: bool


CENTURY = {"9": 1800, "0": 1800, "1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000}


def parse_rrn(text: str) -> Rrn:
    d = "".join(ch for ch in text if ch.isdigit())
    if len(d) != 13:
        raise InvalidRrn("length")
    try:
        born = date(CENTURY[d[6]] + int(d[:2]), int(d[2:4]), int(d[4:6]))
    except ValueError as exc:
        raise InvalidRrn("date") from exc
    w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    check = (11 - sum(int(a) * b for a, b in zip(d, w)) % 11) % 10
    return Rrn(d, born, check == int(d[12]))

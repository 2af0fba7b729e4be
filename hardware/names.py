"""What a file or folder name on a customer's FAT or exFAT stick may be: the one rule for both the bundle's
layout (kiosk.pki.bundle) and the writer (hardware.write)."""

from __future__ import annotations

import unicodedata

# FAT and exFAT refuse these outright; control characters (and DEL) as well
FORBIDDEN_CHARACTERS = frozenset('"*/:<>?\\|') | {chr(c) for c in range(0x20)} | {"\x7f"}
MAX_UTF16_UNITS = 255  # a long file name is at most 255 UTF-16 code units on both


class UnsafeName(ValueError):
    """A name FAT/exFAT would refuse or silently alter, or one that climbs out of its folder."""


def fat_name(name: str) -> str:
    """`name` NFC-normalised (Hangul names written on one system read the same on another), or
    `UnsafeName`: empty, `.`/`..`, a forbidden character, too long, or leading/trailing space or a
    trailing dot, which FAT drops."""
    name = unicodedata.normalize("NFC", name)
    if name in ("", ".", ".."):
        raise UnsafeName(f"unusable name {name!r}")
    if any(ch in FORBIDDEN_CHARACTERS for ch in name):
        raise UnsafeName(f"name {name!r} holds a character FAT forbids")
    if name != name.strip() or name.endswith("."):
        raise UnsafeName(f"name {name!r} starts or ends in a space, or ends in a dot, which FAT drops")
    if len(name.encode("utf-16-le")) // 2 > MAX_UTF16_UNITS:
        raise UnsafeName(f"name longer than {MAX_UTF16_UNITS} UTF-16 units (the FAT/exFAT limit)")
    return name

"""The NPKI folder tree a customer's banking software looks for, built in memory.

`NPKI/<CA folder>/USER/<subject DN>/signCert.der` and `signPri.key`, relative paths with `/`, names
NFC-normalised (Hangul folder names on FAT/exFAT). The hardware part writes and verifies the files.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

CERT_FILE = "signCert.der"
KEY_FILE = "signPri.key"
_FORBIDDEN = set('/\\:*?"<>|') | {chr(c) for c in range(32)}


@dataclass(frozen=True)
class Bundle:
    """The files of one certificate: `files` is a list of (relative path, bytes)."""

    folder: str  # NPKI/<CA folder>/USER/<subject DN>
    files: list[tuple[str, bytes]]

    def file(self, name: str) -> bytes:
        for path, data in self.files:
            if path.rsplit("/", 1)[-1] == name:
                return data
        raise KeyError(name)

    def __repr__(self) -> str:
        return f"Bundle({self.folder!r}, {[path for path, _ in self.files]})"


def build_bundle(ca_folder: str, subject_folder: str, certificate_der: bytes, private_key: bytes) -> Bundle:
    """Lay out signCert.der and signPri.key (the encrypted key) under the customer's DN folder."""
    folder = "/".join(("NPKI", _component(ca_folder), "USER", _component(subject_folder)))
    return Bundle(
        folder=folder,
        files=[(f"{folder}/{CERT_FILE}", certificate_der), (f"{folder}/{KEY_FILE}", private_key)],
    )


def _component(name: str) -> str:
    """One NFC path component that cannot climb out of its folder or break a FAT name."""
    name = unicodedata.normalize("NFC", name)
    if not name or name in (".", "..") or any(ch in _FORBIDDEN for ch in name) or name != name.strip():
        raise ValueError(f"not a safe folder name: {name!r}")
    if len(name.encode("utf-16-le")) // 2 > 255:
        raise ValueError("folder name longer than 255 UTF-16 units (FAT/exFAT limit)")
    return name

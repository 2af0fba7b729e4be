"""The NPKI folder tree a customer's banking software looks for (hardware.npki), built in memory.

Relative paths with `/`, names NFC-normalised (Hangul folder names on FAT/exFAT). The hardware part
writes and verifies the files.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.names import fat_name
from hardware.npki import CERT_FILE, KEY_FILE, certificate_folder


@dataclass(frozen=True)
class Bundle:
    """The files of one certificate: `files` is a list of (path, bytes), each directly in `folder`; both
    relative to the drive root. The drive writer takes the two as they are (hardware.DriveManager.deliver)."""

    folder: str  # NPKI/<CA folder>/USER/<subject DN>
    files: list[tuple[str, bytes]]

    def file(self, name: str) -> bytes:
        for path, data in self.files:
            if path.rsplit("/", 1)[-1] == name:
                return data
        raise KeyError(name)

    def __repr__(self) -> str:
        return f"Bundle({self.folder!r}, {[path for path, _ in self.files]})"


def bundle_folder(ca_folder: str, subject_dn: str) -> str:
    """`NPKI/<CA folder>/USER/<subject DN>`, each name as a FAT stick holds it."""
    return certificate_folder(fat_name(ca_folder), fat_name(subject_dn))


def build_bundle(ca_folder: str, subject_dn: str, certificate_der: bytes, private_key: bytes) -> Bundle:
    """Lay out signCert.der and signPri.key (the encrypted key) under the customer's DN folder.
    Raises `hardware.names.UnsafeName` (a ValueError) for a name a FAT stick cannot hold."""
    folder = bundle_folder(ca_folder, subject_dn)
    return Bundle(
        folder=folder,
        files=[(f"{folder}/{CERT_FILE}", certificate_der), (f"{folder}/{KEY_FILE}", private_key)],
    )


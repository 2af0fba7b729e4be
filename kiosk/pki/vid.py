"""The VID (virtual ID): binds a certificate to a resident number without putting the number in it.

VID = SHA256(SHA256(DER(SEQUENCE{ idn PrintableString, randomNum BIT STRING }))), with R generated on
the kiosk. The bank later reads R from signPri.key and recomputes the VID from the resident number.
"""

from __future__ import annotations

import hashlib
import secrets

from pyasn1.codec.der import encoder
from pyasn1.type import char, namedtype, univ

R_LENGTH = 20  # bytes; NPKI asks for at least 160 bits


class _VidInput(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("idn", char.PrintableString()),
        namedtype.NamedType("randomNum", univ.BitString()),
    )


def generate_r() -> bytes:
    """20 bytes from the OS CSPRNG (never `random`)."""
    return secrets.token_bytes(R_LENGTH)


def vid_input(idn: str, r: bytes) -> bytes:
    """DER(SEQUENCE{idn, randomNum}): hashed into the VID, and sent encrypted to a CMP CA (EncryptedVID)."""
    if len(idn) != 13 or not idn.isascii() or not idn.isdigit():
        raise ValueError("idn must be 13 digits without a hyphen")
    value = _VidInput()
    value["idn"] = idn
    value["randomNum"] = univ.BitString.fromOctetString(r)
    return encoder.encode(value)


def compute_vid(idn: str, r: bytes) -> bytes:
    """The 32-byte VID for a 13-digit resident number (no hyphen) and R."""
    return hashlib.sha256(hashlib.sha256(vid_input(idn, r)).digest()).digest()

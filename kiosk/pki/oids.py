"""Object identifiers of the Korean NPKI (KISA) and PKCS#5 used by the profile and the key codec."""

from __future__ import annotations

from pyasn1.type import univ

# KISA
IDENTIFY_DATA = "1.2.410.200004.10.1.1"  # subjectAltName otherName: identifyData
VID = "1.2.410.200004.10.1.1.1"  # virtual ID inside identifyData
RANDOM_NUM = "1.2.410.200004.10.1.1.3"  # R, as a PKCS#8 attribute of signPri.key
SEED_CBC = "1.2.410.200004.1.4"  # seedCBC; also the legacy PBE OID with a fixed IV
SEED_CBC_WITH_SHA1 = "1.2.410.200004.1.15"  # PBES1-style PBKDF1-SHA1 + SEED-CBC
POLICY_BANKING_PERSONAL = "1.2.410.200005.1.1.4"  # yessign: bank/insurance personal

# PKCS#5 and friends
PBES2 = "1.2.840.113549.1.5.13"
PBKDF2 = "1.2.840.113549.1.5.12"
HMAC_SHA1 = "1.2.840.113549.2.7"
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
SHA256 = "2.16.840.1.101.3.4.2.1"


def oid(dotted: str) -> univ.ObjectIdentifier:
    return univ.ObjectIdentifier(dotted)

"""KISA EncryptedVID (`1.2.410.200004.10.1.1.2`): the VID input sent to the CA, encrypted to its KEK.

The CA computes the VID it writes into identifyData from the resident number and R, so it must see both;
only the CA may, hence the encryption to its key-encryption certificate. Built as CMS EnvelopedData
(ContentInfo, RSA PKCS#1 v1.5 key transport, AES-128-CBC) over DER(SEQUENCE{idn PrintableString,
randomNum BIT STRING}) — the structure of the plaintext is the VID input (NPKI.md); the envelope
(CMS, its algorithms) is *inferred*: no KISA text confirmed it (docs/cmp.md).
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from pyasn1.codec.der import decoder
from pyasn1.error import PyAsn1Error

from kiosk.pki.errors import CaError
from kiosk.pki.vid import _VidInput, vid_input

ENCRYPTED_VID = "1.2.410.200004.10.1.1.2"


def encrypt_vid(idn: str, r: bytes, kek_certificate: x509.Certificate) -> bytes:
    """DER ContentInfo(EnvelopedData) of the VID input for the holder of `kek_certificate`."""
    if not isinstance(kek_certificate.public_key(), rsa.RSAPublicKey):
        raise CaError("the CA's key-encryption certificate must hold an RSA key")
    return (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(vid_input(idn, r))
        .add_recipient(kek_certificate)
        # Binary: without it the content is treated as S/MIME text and every LF in R becomes CRLF
        .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )


def decrypt_vid(
    envelope: bytes, kek_certificate: x509.Certificate, kek_key: rsa.RSAPrivateKey
) -> tuple[str, bytes]:
    """(idn, R) from an EncryptedVID: what the CA side does; used by tests and `kiosk` diagnostics."""
    plain = pkcs7.pkcs7_decrypt_der(envelope, kek_certificate, kek_key, [])
    try:
        value, rest = decoder.decode(plain, asn1Spec=_VidInput())
    except PyAsn1Error as exc:
        raise CaError("the EncryptedVID does not hold a VID input") from exc
    if rest:
        raise CaError("trailing bytes after the VID input")
    return str(value["idn"]), value["randomNum"].asOctets()

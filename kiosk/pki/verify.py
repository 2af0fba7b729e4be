"""Read a bundle back and prove it is what the customer's banking software needs.

Used by `kiosk selftest` (and fit for the hardware part's read-back check): the key opens with the
password, it is the certificate's key, R is there, the VID recomputes from the resident number, and the
certificate is signed by the issuing CA in the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from kiosk.pki import profile
from kiosk.pki.errors import BundleCheckFailed, KeyMismatch
from kiosk.pki.keyfile import decrypt_private_key
from kiosk.pki.keys import same_key
from kiosk.pki.vid import compute_vid


@dataclass(frozen=True)
class BundleCheck:
    """What a successful check established (for the technician's report)."""

    common_name: str
    serial: int
    real_name: str
    vid_matches: bool
    issuer: str


def verify_bundle(
    certificate_der: bytes,
    private_key: bytes,
    password: str,
    idn: str | None = None,
    chain_pem: bytes | None = None,
) -> BundleCheck:
    """Raises WrongPassword/KeyFileError (key), KeyMismatch, or BundleCheckFailed (VID, chain)."""
    try:
        certificate = x509.load_der_x509_certificate(certificate_der)
    except ValueError as exc:
        raise BundleCheckFailed("signCert.der is not a DER certificate") from exc
    opened = decrypt_private_key(private_key, password)
    if not same_key(opened.key, certificate.public_key()):
        raise KeyMismatch("signPri.key does not belong to signCert.der")
    real_name, vid = _identify(certificate)
    vid_matches = False
    if idn is not None:
        if opened.r is None:
            raise BundleCheckFailed("signPri.key carries no R, the VID cannot be checked")
        if compute_vid(idn, opened.r) != vid:
            raise BundleCheckFailed("the VID does not match the resident number and R")
        vid_matches = True
    issuer = (
        _check_issuer(certificate, chain_pem)
        if chain_pem is not None
        else certificate.issuer.rfc4514_string()
    )
    return BundleCheck(
        profile.common_name_of(certificate), certificate.serial_number, real_name, vid_matches, issuer
    )


def _identify(certificate: x509.Certificate) -> tuple[str, bytes]:
    try:
        return profile.read_identify_data(certificate)
    except ValueError as exc:
        raise BundleCheckFailed(str(exc)) from exc


def _check_issuer(certificate: x509.Certificate, chain_pem: bytes) -> str:
    """The certificate's issuer is the first certificate of the chain (the issuing CA) and signed it."""
    chain = x509.load_pem_x509_certificates(chain_pem)
    issuing = chain[0]
    try:
        certificate.verify_directly_issued_by(issuing)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise BundleCheckFailed("the certificate is not signed by the issuing CA of the chain") from exc
    return issuing.subject.rfc4514_string()

"""The CertificateAuthority port: what the kiosk, as a registration agent, asks of a CA.

The embedded adapter (`kiosk.pki.embedded`) signs locally for demos, tests and pilots; a CMP adapter
(RFC 4210) to a real CA implements the same methods. The journey only sees `IssuanceService`, which
holds one of these, so swapping the adapter never touches the journey.

A CMP adapter needs the new private key for proof of possession, and the resident number and R to send
the CA an EncryptedVID; that is why `issue` receives them. A CMP renewal is signed with the old key, so
`renew` may receive the `Predecessor`. None of these is stored by any adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from kiosk.pki.errors import PkiError

# RFC 5280 reason codes we use, by the names a PKI engineer reads in a CRL.
REASONS = {
    "unspecified": x509.ReasonFlags.unspecified,
    "keyCompromise": x509.ReasonFlags.key_compromise,
    "affiliationChanged": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessationOfOperation": x509.ReasonFlags.cessation_of_operation,
    "privilegeWithdrawn": x509.ReasonFlags.privilege_withdrawn,
}


def check_reason(reason: str) -> x509.ReasonFlags:
    try:
        return REASONS[reason]
    except KeyError:
        raise PkiError(f"unknown revocation reason {reason!r}; one of {', '.join(REASONS)}") from None


def serial_hex(serial: int) -> str:
    """The one spelling of a serial everywhere in the kiosk: 40 upper-case hex digits."""
    return f"{serial:040X}"


def parse_serial(text: str) -> str:
    """Accept a serial as typed by a technician (any case, colons, 0x) and return `serial_hex`."""
    cleaned = text.strip().replace(":", "").removeprefix("0x").removeprefix("0X")
    try:
        value = int(cleaned, 16)
    except ValueError:
        raise PkiError(f"not a hexadecimal serial: {text!r}") from None
    if value <= 0 or value.bit_length() > 160:
        raise PkiError(f"not a certificate serial: {text!r}")
    return serial_hex(value)


@dataclass(frozen=True)
class CertificateRequest:
    """One subscriber's request. `idn` (resident number) and `r` are hidden from repr and logs."""

    real_name: str
    english_name: str
    idn: str = field(repr=False)
    r: bytes = field(repr=False)
    public_key: rsa.RSAPublicKey = field(repr=False)


@dataclass(frozen=True)
class Predecessor:
    """The certificate a renewal replaces and its private key (read from the customer's drive with their
    password): a CMP key update request is signed with it. Never stored by any adapter."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey = field(repr=False)


@dataclass(frozen=True)
class IssuedCertificate:
    certificate: x509.Certificate
    issuer_name: str

    @property
    def serial(self) -> str:
        return serial_hex(self.certificate.serial_number)

    @property
    def not_before(self) -> datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc


class CertificateAuthority(Protocol):
    def issue(self, request: CertificateRequest, key: rsa.RSAPrivateKey) -> IssuedCertificate:
        """A new certificate, valid one year."""

    def reissue(
        self, request: CertificateRequest, key: rsa.RSAPrivateKey, replaces: str
    ) -> IssuedCertificate:
        """A replacement that keeps the expiry of `replaces` (one year when that one has lapsed).

        The old certificate is revoked (superseded) through `revoke` once the new one is delivered, so a
        failed write never leaves the customer with no certificate at all."""

    def renew(
        self,
        request: CertificateRequest,
        key: rsa.RSAPrivateKey,
        renews: str,
        predecessor: Predecessor | None = None,
    ) -> IssuedCertificate:
        """A successor from 30 days before the old expiry; valid one year from the renewal (NPKI.md).

        `predecessor` (old certificate and key) is needed by adapters that prove the renewal with the old
        key (CMP kur); the embedded CA ignores it."""

    def revoke(self, serial: str, reason: str) -> None:
        """Revoke and publish a new CRL. Revoking a revoked certificate again is a no-op."""

    def unrevoked_serials(self) -> list[str]:
        """Every serial this CA signed for the kiosk and has not revoked, where the adapter keeps the
        ledger (the embedded CA). The start-up sweep compares it with the registry: a certificate signed
        just before a crash, whose registry row was never written, is revoked then. An adapter to a real
        CA returns []: that CA keeps its own ledger, and cancels what the kiosk never confirmed (certConf)."""

    def crl_der(self) -> bytes:
        """The current CRL, DER."""

    def chain_pem(self) -> bytes:
        """The issuing CA's certificate followed by its root, PEM."""

    def issuer_name(self) -> str:
        """The issuing CA's name as shown to a customer."""

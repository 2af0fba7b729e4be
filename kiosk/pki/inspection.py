"""What a customer's stick holds, certificate by certificate, for "내 인증서 확인": read, never written.

Each folder the drive reader found becomes a `CertificateOnStick` with the facts a customer asks about
(name, issuer, purpose, validity, days left) and one status. A file that is not a certificate is listed
as damaged, never raised: a customer's stick is hostile input. A readable one carries its files too
(`held`, kiosk.pki.held): the one object the check, copy, renewal and password change work on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.x509.oid import NameOID

from kiosk.pki import oids
from kiosk.pki.ca import serial_hex

if TYPE_CHECKING:  # held builds bundles with kiosk.pki.issuance, which imports this module
    from kiosk.pki.held import HeldCertificate

PURPOSES = {oids.POLICY_BANKING_PERSONAL: "banking_personal"}


class Status(str, Enum):
    VALID = "valid"
    EXPIRING = "expiring"    # within the renewal window: renew (갱신) now
    EXPIRED = "expired"      # only a new issuance helps
    REVOKED = "revoked"      # by this CA: replaced or abandoned
    NOT_OURS = "not_ours"    # another CA's, or one this kiosk never issued
    DAMAGED = "damaged"      # the file is missing, too large, or not a certificate


@dataclass(frozen=True)
class CertificateOnStick:
    folder: str
    status: Status
    name: str = ""
    issuer: str = ""
    purpose: str = ""
    serial: str = ""
    not_before: datetime | None = None
    not_after: datetime | None = None
    days_left: int | None = None
    has_key: bool = False
    problem: str | None = None
    # the certificate's files as read (None when damaged): attached by `kiosk.pki.held.with_files`
    held: HeldCertificate | None = field(default=None, repr=False, compare=False)


def inspect(folders, now: datetime, is_ours, is_revoked, renewal_window: timedelta) -> list[CertificateOnStick]:
    """`folders`: hardware.read.FoundFolder items. `is_ours(certificate)` and `is_revoked(serial)` ask
    this kiosk's CA and registry; `renewal_window` is the issuance's (KIOSK_RENEWAL_WINDOW_DAYS)."""
    return [_inspect_one(folder, now, is_ours, is_revoked, renewal_window) for folder in folders]


def _inspect_one(folder, now: datetime, is_ours, is_revoked, renewal_window: timedelta) -> CertificateOnStick:
    if folder.certificate is None:
        return CertificateOnStick(folder.path, Status.DAMAGED, has_key=folder.has_key, problem=folder.problem)
    try:
        certificate = x509.load_der_x509_certificate(folder.certificate)
        facts = _facts(certificate, now)
    except ValueError:
        return CertificateOnStick(folder.path, Status.DAMAGED, has_key=folder.has_key, problem="not_a_certificate")
    status = _status(certificate, facts["serial"], now, is_ours, is_revoked, renewal_window)
    return CertificateOnStick(folder.path, status, has_key=folder.has_key, **facts)


def _facts(certificate: x509.Certificate, now: datetime) -> dict:
    not_after = certificate.not_valid_after_utc
    return {
        "name": _attribute(certificate.subject, NameOID.COMMON_NAME),
        # the issuing CA's common name, as the done screen and the receipt name it (issue 26, item 14)
        "issuer": _attribute(certificate.issuer, NameOID.COMMON_NAME)
        or _attribute(certificate.issuer, NameOID.ORGANIZATION_NAME),
        "purpose": _purpose(certificate),
        "serial": serial_hex(certificate.serial_number),
        "not_before": certificate.not_valid_before_utc,
        "not_after": not_after,
        "days_left": max((not_after - now).days, 0),
    }


def _status(certificate, serial: str, now: datetime, is_ours, is_revoked, renewal_window: timedelta) -> Status:
    if now >= certificate.not_valid_after_utc:
        return Status.EXPIRED
    if not is_ours(certificate):
        return Status.NOT_OURS
    if is_revoked(serial):
        return Status.REVOKED
    if certificate.not_valid_after_utc - renewal_window <= now:
        return Status.EXPIRING
    return Status.VALID


def _attribute(name: x509.Name, oid) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def _purpose(certificate: x509.Certificate) -> str:
    try:
        policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return ""
    for policy in policies:
        if policy.policy_identifier.dotted_string in PURPOSES:
            return PURPOSES[policy.policy_identifier.dotted_string]
    return "other"

"""IssuanceService: what the journey calls to issue, deliver, abandon and revoke certificates.

One `prepare` runs the pipeline — key and R, certificate from the CA, key encrypted with the customer's
password, NPKI bundle in memory, registry row 'issued'. The private key object is dropped when `prepare`
returns. The hardware part writes the bundle; `mark_delivered` records it, and a certificate that never
reaches a drive is revoked (`abandon` at session end, `revoke_undelivered` at start-up).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

from kiosk import logs
from kiosk.clock import Clock
from kiosk.pki import inspection, profile
from kiosk.pki.bundle import Bundle, build_bundle, bundle_folder
from kiosk.pki.ca import (
    CertificateAuthority,
    CertificateRequest,
    IssuedCertificate,
    Predecessor,
    check_reason,
    serial_hex,
)
from kiosk.pki.config import PkiSettings
from kiosk.pki.errors import AlreadyReplaced, CaError, InvalidTransition, NotRenewable, PkiError, WeakPassword
from kiosk.pki.inspection import CertificateOnStick
from kiosk.pki.keyfile import encrypt_private_key
from kiosk.pki.keys import generate_key, same_key
from kiosk.pki.password import unmet_rules
from kiosk.pki.registry import DELIVERED, ISSUED, REVOKED, CertificateRecord, Registry
from kiosk.pki.rrn import parse_rrn
from kiosk.pki.vid import generate_r
from kiosk.store import Store

__all__ = ["Applicant", "CertificateRecord", "IssuanceService", "PreparedCertificate"]


@dataclass(frozen=True)
class Applicant:
    """The person a certificate is for; `rrn` never appears in a repr, a log line or the registry."""

    name: str
    english_name: str
    rrn: str = field(repr=False)
    customer_key: str


@dataclass(frozen=True)
class PreparedCertificate:
    serial: str
    bundle: Bundle
    subject_dn: str
    common_name: str
    issuer_name: str
    not_before: datetime
    not_after: datetime
    replaces: str | None


class IssuanceService:
    def __init__(
        self,
        ca: CertificateAuthority,
        registry: Registry,
        ca_folder: str,
        renewal_window: timedelta,  # KIOSK_RENEWAL_WINDOW_DAYS (PkiSettings.renewal_window), never a default
        clock: Clock | None = None,
        key_and_r: Callable[[], tuple[rsa.RSAPrivateKey, bytes]] = lambda: (generate_key(), generate_r()),
    ):
        self.renewal_window = renewal_window
        self.ca = ca
        self.registry = registry
        self.ca_folder = ca_folder
        self.clock = clock or Clock()
        # Issuing is CPU-bound (key generation, signing): more pipelines at once than cores only stretch
        # each one and pile their database writes onto SQLite's single writer lock together. With 100
        # customers issuing at once (tests/faults/test_branch_server.py) unbounded workers starved
        # writers past the 5 s busy timeout ("database is locked"); the rest queue here instead.
        self._slots = threading.BoundedSemaphore(os.cpu_count() or 1)
        # tests against a CA that returns a fixed certificate (openssl cmp) pass the key and R it was made for
        self._key_and_r = key_and_r

    @classmethod
    def from_settings(cls, settings: PkiSettings, store: Store,
                      wrap_ca: Callable[[CertificateAuthority], CertificateAuthority] = lambda ca: ca,
                      ) -> "IssuanceService":
        """The service with the CA adapter `settings.ca_backend` names: `embedded` or `cmp`, passed
        through `wrap_ca` (the kiosk times every round trip to the CA there: kiosk.metrics.MeasuredCA)."""
        if settings.ca_backend == "cmp":
            from kiosk.pki.cmp import CmpCA

            ca = CmpCA.from_settings(settings.cmp)
            return cls(wrap_ca(ca), Registry(store), settings.ca_folder, settings.renewal_window)
        if settings.ca_backend != "embedded":
            raise CaError(f"the {settings.ca_backend!r} CA adapter is not available in this version")
        from kiosk.pki.cmp.client import registration_agent
        from kiosk.pki.cmp.local import LocalCA

        ca = LocalCA(settings, registration_agent(settings.cmp))  # the embedded CA's responder, over CMP
        return cls(wrap_ca(ca), Registry(store), settings.ca_folder, settings.renewal_window)

    # --- issuing -----------------------------------------------------------------------------------

    def prepare(
        self,
        applicant: Applicant,
        password: str,
        replaces: str | None = None,
        renews: str | None = None,
        predecessor: Predecessor | None = None,
    ) -> PreparedCertificate:
        """Issue a new certificate, a reissue of `replaces` (keeps its expiry) or a renewal of `renews`
        (`predecessor`, the old certificate and key from the customer's drive, for CAs that need it).

        Raises WeakPassword, InvalidApplicant, NotRenewable, InvalidTransition or a CaError; when anything
        fails after the CA signed, the new certificate is revoked before the error propagates."""
        if replaces and renews:
            raise ValueError("a certificate either replaces or renews another, not both")
        with self._slots:
            return self._prepare(applicant, password, replaces, renews, predecessor)

    def _prepare(
        self, applicant: Applicant, password: str, replaces: str | None, renews: str | None,
        predecessor: Predecessor | None,
    ) -> PreparedCertificate:
        unmet = unmet_rules(password)
        if unmet:
            raise WeakPassword(unmet)
        real_name, english_name = profile.check_names(applicant.name, applicant.english_name)
        idn = parse_rrn(applicant.rrn).digits
        self._check_predecessor(applicant, replaces, renews)
        if renews:
            self._check_possession(renews, predecessor)
        key, r = self._key_and_r()
        request = CertificateRequest(real_name, english_name, idn, r, key.public_key())
        issued = self._sign(request, key, replaces, renews, predecessor)
        try:
            # a renewal claims its predecessor as a reissue does: revoked (superseded) once delivered
            prepared = self._package(issued, encrypt_private_key(key, r, password), replaces or renews)
            self._record(prepared, applicant.customer_key)
        except BaseException:
            self._revoke_at_ca(issued.serial)  # a failure here is logged; the start-up sweep retries it
            raise
        finally:
            del key
        logs.event(
            "issue.certificate_issued",
            serial=prepared.serial,
            customer=applicant.customer_key,
            replaces=replaces,
            renews=renews,
            not_after=prepared.not_after.isoformat(),
        )
        return prepared

    def _sign(
        self, request: CertificateRequest, key, replaces: str | None, renews: str | None, predecessor=None
    ) -> IssuedCertificate:
        if replaces:
            return self.ca.reissue(request, key, replaces)
        if renews:
            return self.ca.renew(request, key, renews, predecessor)
        return self.ca.issue(request, key)

    def _check_predecessor(self, applicant: Applicant, replaces: str | None, renews: str | None) -> None:
        serial = replaces or renews
        if serial is None:
            return
        old = self.registry.get(serial)
        if old.customer_key != applicant.customer_key:
            raise InvalidTransition(f"certificate {serial} belongs to another customer")
        if replaces and not any(r.serial == serial for r in self.registry.replaceable_for(old.customer_key)):
            # early and cheap, before the CA signs; the registry's UNIQUE claim decides a race
            raise AlreadyReplaced(f"certificate {serial} is {old.status} or already being replaced")
        if renews and not self.renewable(old):
            raise NotRenewable(f"certificate {serial} can be renewed only in the {self.renewal_window.days} days "
                               "before it expires")

    def _check_possession(self, renews: str, predecessor: Predecessor | None) -> None:
        """A renewal proves possession of the old certificate's key: the certificate the customer brought
        is `renews`, our CA signed it, and the key opened from their stick is its key (issue 26, item 3)."""
        if (predecessor is None or serial_hex(predecessor.certificate.serial_number) != renews
                or not self.signed_by_us(predecessor.certificate)
                or not same_key(predecessor.key, predecessor.certificate.public_key())):
            raise NotRenewable(f"the renewal of {renews} does not prove possession of its key")

    def _package(
        self, issued: IssuedCertificate, encrypted_key: bytes, replaces: str | None
    ) -> PreparedCertificate:
        certificate = issued.certificate
        subject_dn = profile.folder_name(certificate.subject)
        der = certificate.public_bytes(Encoding.DER)
        return PreparedCertificate(
            serial=issued.serial,
            bundle=build_bundle(self.ca_folder, subject_dn, der, encrypted_key),
            subject_dn=subject_dn,
            common_name=profile.common_name_of(certificate),
            issuer_name=issued.issuer_name,
            not_before=issued.not_before,
            not_after=issued.not_after,
            replaces=replaces,
        )

    def _record(self, prepared: PreparedCertificate, customer_key: str) -> None:
        self.registry.add(
            CertificateRecord(
                serial=prepared.serial,
                customer_key=customer_key,
                common_name=prepared.common_name,
                subject_dn=prepared.subject_dn,
                issuer_name=prepared.issuer_name,
                not_before=prepared.not_before,
                not_after=prepared.not_after,
                status=ISSUED,
                revocation_reason=None,
                delivered_to=None,
                replaces=prepared.replaces,
            ),
            issued_at=self.clock.utcnow(),
        )

    # --- what became of it -------------------------------------------------------------------------

    def mark_delivered(self, serial: str, drive_serial: str) -> None:
        """The bundle is on the customer's drive and verified; a replaced certificate is revoked now."""
        if not self.registry.mark_delivered(serial, drive_serial, self.clock.utcnow()):
            return
        logs.event("pki.certificate_delivered", serial=serial, drive=drive_serial)
        replaced = self.registry.get(serial).replaces
        if replaced is None:
            return
        old = self.registry.find(replaced)
        if old is not None and old.status != REVOKED:
            try:
                self.revoke(replaced, "superseded")
            except PkiError as exc:  # the customer has the new one; a technician finishes the revocation
                logs.error("pki.revocation_failed", serial=replaced, reason="superseded", error=str(exc))

    def bundle_folder_of(self, serial: str) -> str:
        """Where the bundle of a certificate this kiosk issued lies on a drive."""
        return bundle_folder(self.ca_folder, self.registry.get(serial).subject_dn)

    @staticmethod
    def is_certificate(serial: str, der: bytes) -> bool:
        """`der` is the certificate `serial` (a customer's file of that name may be anything)."""
        try:
            return serial_hex(x509.load_der_x509_certificate(der).serial_number) == serial
        except ValueError:
            return False

    def abandon(self, serial: str) -> bool:
        """The session ended: revoke the certificate if it never reached a drive. Idempotent."""
        record = self.registry.get(serial)
        if record.status != ISSUED:
            return False
        self.revoke(serial, "cessationOfOperation")
        return True

    def revoke_undelivered(self) -> int:
        """At start-up: revoke what a crash or power cut left issued but undelivered; returns the count.

        That is every registry row still 'issued', and every serial the CA's ledger holds unrevoked that
        the registry never recorded (signed, then the crash came before the row was written). One
        certificate the CA refuses to revoke (e.g. the CA was recreated) is logged and left for a
        technician; it must not keep the kiosk from starting or the others from being revoked."""
        revoked = 0
        for record in self.registry.undelivered():
            try:
                self.revoke(record.serial, "cessationOfOperation")
            except PkiError as exc:
                _log_revocation_failed(record.serial, exc)
                continue
            revoked += 1
        recorded = self.registry.serials()
        unrecorded = [serial for serial in self.ca.unrevoked_serials() if serial not in recorded]
        revoked += sum(self._revoke_at_ca(serial) for serial in unrecorded)
        if revoked:
            logs.warning("pki.undelivered_revoked", count=revoked, unrecorded=len(unrecorded) or None)
        return revoked

    def _revoke_at_ca(self, serial: str) -> bool:
        """Revoke a certificate the registry has no row for; a failure is logged, never raised."""
        try:
            self.ca.revoke(serial, "cessationOfOperation")
        except Exception as exc:  # noqa: BLE001 - the caller is already handling a failure, or sweeping
            _log_revocation_failed(serial, exc)
            return False
        logs.event("pki.certificate_revoked", serial=serial, reason="cessationOfOperation")
        return True

    def revoke(self, serial: str, reason: str) -> None:
        """Revoke at the CA (which publishes a CRL), then in the registry."""
        check_reason(reason)
        self.ca.revoke(serial, reason)
        self.registry.mark_revoked(serial, reason, self.clock.utcnow())
        logs.event("pki.certificate_revoked", serial=serial, reason=reason)

    # --- reading -----------------------------------------------------------------------------------

    def replaceable(self, customer_key: str) -> list[CertificateRecord]:
        """What the reissue list offers: delivered, and not replaced by another session."""
        return self.registry.replaceable_for(customer_key)

    def find(self, serial: str) -> CertificateRecord | None:
        """The registry's row for `serial`; None when this kiosk never issued it."""
        return self.registry.find(serial)

    def certificates_for(self, customer_key: str) -> list[CertificateRecord]:
        return self.registry.for_customer(customer_key)

    def renewable(self, record: CertificateRecord, now: datetime | None = None) -> bool:
        """From the renewal window (30 days by default) before expiry until expiry, for a certificate that
        was delivered and not revoked."""
        now = now or self.clock.utcnow()
        return record.status == DELIVERED and record.not_after - self.renewal_window <= now < record.not_after

    def inspect(self, folders) -> list[CertificateOnStick]:
        """What a customer's stick holds (hardware.read folders), judged against this kiosk's registry
        and its CA's CRL: ours or not, revoked, expiring, expired."""
        revoked = self._revoked_serials()

        def is_ours(certificate) -> bool:
            return (self.registry.find(serial_hex(certificate.serial_number)) is not None
                    and self.signed_by_us(certificate))

        def is_revoked(serial: str) -> bool:
            record = self.registry.find(serial)
            return serial in revoked or (record is not None and record.status == REVOKED)

        return inspection.inspect(folders, self.clock.utcnow(), is_ours, is_revoked, self.renewal_window)

    def signed_by_us(self, certificate: x509.Certificate) -> bool:
        """The certificate's signature verifies against a CA certificate of our chain: a serial of ours
        in another CA's certificate is not ours (issue 26, item 3)."""
        try:
            chain = x509.load_pem_x509_certificates(self.ca.chain_pem())
        except (PkiError, ValueError) as exc:
            logs.warning("pki.chain_unavailable", error=str(exc))
            return False
        for authority in chain:
            try:
                certificate.verify_directly_issued_by(authority)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return True
        return False

    def _revoked_serials(self) -> set[str]:
        """The CRL's serials; empty when the CA publishes none here (the registry still knows ours)."""
        try:
            crl = x509.load_der_x509_crl(self.crl_der())
        except (PkiError, ValueError) as exc:
            logs.warning("pki.crl_unavailable", error=str(exc))
            return set()
        return {serial_hex(entry.serial_number) for entry in crl}

    def crl_der(self) -> bytes:
        return self.ca.crl_der()

    def ca_chain_pem(self) -> bytes:
        return self.ca.chain_pem()


def _log_revocation_failed(serial: str, exc: Exception) -> None:
    logs.error("pki.revocation_failed", serial=serial, reason="cessationOfOperation", error=str(exc))

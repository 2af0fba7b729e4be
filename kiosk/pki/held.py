"""A certificate the customer brought on their own stick: where renewal (갱신), a password change
(비밀번호 변경) and a copy (인증서 복사) start.

The stick's files are read into memory (hardware.read) and stay there for the visit. `unlock` proves the
customer knows the certificate's password: the key is decrypted in memory only, and must be the
certificate's key. The bundle a service writes back is built here, in memory, as issuance builds its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from functools import cached_property

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

from kiosk.pki.bundle import CERT_FILE, KEY_FILE, Bundle
from kiosk.pki.ca import serial_hex
from kiosk.pki.errors import KeyMismatch
from kiosk.pki.inspection import CertificateOnStick, Status
from kiosk.pki.issuance import PreparedCertificate
from kiosk.pki.keyfile import NpkiPrivateKey, check_key_file, decrypt_private_key, encrypt_private_key
from kiosk.pki.keys import same_key

# wrong certificate passwords share the lockouts table with account PINs, under names with this prefix
CERTIFICATE_TRIES = "certificate:"


@dataclass(frozen=True)
class HeldCertificate:
    """One certificate folder as read from the stick: `folder` is relative to the stick's root, as found
    there; `key_file` is the encrypted signPri.key (None when it was not read or is missing)."""

    folder: str
    certificate_der: bytes
    key_file: bytes | None = field(default=None, repr=False)

    @cached_property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.certificate_der)

    @property
    def serial(self) -> str:
        return serial_hex(self.certificate.serial_number)

    @property
    def tries_key(self) -> str:
        """The name wrong passwords are counted under (kiosk.identity.lockouts), without personal data:
        the certificate's public key, re-encoded (one key, one count, whatever bytes the certificate
        file holds). A try can succeed only when the key file holds that public key's private key, and
        every other try gets the same answer (`unlock`'s errors are one answer to the customer), so a
        certificate made up beside someone's key file, or one with a changed byte, learns nothing outside
        this count (issue 26, item 2)."""
        try:
            public = self.certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        except (ValueError, UnsupportedAlgorithm):  # a key type no key file here can hold: never opens
            public = self.certificate_der
        return CERTIFICATE_TRIES + hashlib.sha256(public).hexdigest()[:32]

    def check_key_file(self) -> None:
        """Raises KeyFileError when the key file cannot be a key whatever the password (or is missing)."""
        check_key_file(self.key_file or b"")

    def unlock(self, password: str) -> NpkiPrivateKey:
        """Raises WrongPassword, KeyFileError (not a key file) or KeyMismatch (another certificate's key)."""
        opened = decrypt_private_key(self.key_file or b"", password)
        if not same_key(opened.key, self.certificate.public_key()):
            raise KeyMismatch("signPri.key does not belong to signCert.der")
        return opened

    def copied(self) -> PreparedCertificate:
        """The same two files, byte for byte, for another stick: a copy is the same certificate."""
        return self._prepared(self.key_file)

    def protected_with(self, opened: NpkiPrivateKey, new_password: str) -> PreparedCertificate:
        """The same certificate with its key encrypted under `new_password` (R kept), for the same folder."""
        return self._prepared(encrypt_private_key(opened.key, opened.r, new_password))

    def _prepared(self, key_file: bytes) -> PreparedCertificate:
        certificate = self.certificate
        bundle = Bundle(self.folder, [(f"{self.folder}/{CERT_FILE}", self.certificate_der),
                                      (f"{self.folder}/{KEY_FILE}", key_file)])
        return PreparedCertificate(
            serial=self.serial,
            bundle=bundle,
            subject_dn=self.folder.rsplit("/", 1)[-1],
            common_name=_first(certificate.subject, NameOID.COMMON_NAME) or certificate.subject.rfc4514_string(),
            issuer_name=_first(certificate.issuer, NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME)
            or certificate.issuer.rfc4514_string(),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            replaces=None,
        )


def with_files(judged: list[CertificateOnStick], folders) -> list[CertificateOnStick]:
    """The inspection's certificates (`judged`, one per hardware.read folder, in order) with each readable
    one's files attached, so a certificate on the stick is one object (damaged ones carry none: there
    is nothing to open or write)."""
    return [cert if cert.status is Status.DAMAGED
            else replace(cert, held=HeldCertificate(found.path, found.certificate, found.key))
            for cert, found in zip(judged, folders, strict=True)]


def _first(name: x509.Name, *oids) -> str:
    """The first of these attributes the name has (a customer's certificate may lack any of them)."""
    for oid in oids:
        values = name.get_attributes_for_oid(oid)
        if values:
            return str(values[0].value)
    return ""

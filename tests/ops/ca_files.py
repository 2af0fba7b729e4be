"""A stand-in for the embedded CA's files until the PKI work lands: a root, an issuing CA it signed, and a
CRL, written where `kiosk.doctor` reads them. When `kiosk init` creates the CA, `provision()` in
test_doctor.py drops the call to `write_ca_files` and nothing else changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk import doctor


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca_certificate(subject, issuer, public_key, signing_key, not_before, days):
    return (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_before + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(signing_key, hashes.SHA256())
    )


def write_ca_files(data_dir: Path, issuing_days: int = 3650, crl_hours: int = 24,
                   not_before: datetime | None = None) -> None:
    """Root and issuing CA valid from `not_before` (default: an hour ago); the CRL's nextUpdate is
    `crl_hours` from now (negative: already stale)."""
    now = datetime.now(timezone.utc)
    not_before = not_before or now - timedelta(hours=1)
    root_key, issuing_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = _ca_certificate(_name("Test Root CA"), _name("Test Root CA"), root_key.public_key(), root_key,
                           not_before, 7300)
    issuing = _ca_certificate(_name("Test Issuing CA"), root.subject, issuing_key.public_key(), root_key,
                              not_before, issuing_days)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuing.subject)
        .last_update(now - timedelta(hours=1) if crl_hours > 0 else now + timedelta(hours=crl_hours - 1))
        .next_update(now + timedelta(hours=crl_hours))
        .sign(issuing_key, hashes.SHA256())
    )
    ca_dir = data_dir / doctor.CA_DIR
    ca_dir.mkdir(parents=True, exist_ok=True)
    (ca_dir / doctor.ROOT_CA_FILE).write_bytes(root.public_bytes(serialization.Encoding.PEM))
    (ca_dir / doctor.ISSUING_CA_FILE).write_bytes(issuing.public_bytes(serialization.Encoding.PEM))
    (ca_dir / doctor.CRL_FILE).write_bytes(crl.public_bytes(serialization.Encoding.DER))

"""The embedded CA: a root and an issuing CA on the kiosk itself, for demos, tests and pilots.

Created once by `kiosk init` (or `kiosk ca init`, the CA's own unit) in KIOSK_CA_DIR (`<data_dir>/ca/`):
keys PEM-encrypted with KIOSK_CA_PASSPHRASE, keys 0600 in a 0750 directory whose group is the kiosk's,
certificates and CRL readable by that group. Serials are 159 random bits, unique through the ledger table
`embedded_ca_issued`; the CRL file `crl.der` is regenerated on every revocation (and when it nears its
next update) and served at /pki/crl.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from kiosk import logs
from kiosk.clock import Clock
from kiosk.pki import profile
from kiosk.pki.ca import CertificateRequest, IssuedCertificate, Predecessor, check_reason, serial_hex
from kiosk.pki.errors import CaError, CaNotInitialised, CaPassphraseWrong, UnknownCertificate
from kiosk.pki.vid import compute_vid
from kiosk.store import Store

ROOT_YEARS = 20
ISSUING_YEARS = 10
CRL_LIFETIME = timedelta(days=7)
CRL_REFRESH_BEFORE = timedelta(days=1)
# The names of what the CA writes in its directory (PkiSettings.ca_dir): the one source of truth, which
# the doctor reads.
ROOT_CERTIFICATE = "root.crt.pem"
ISSUING_CERTIFICATE = "issuing.crt.pem"
CRL_FILE = "crl.der"
FILES = ("root.key.pem", ROOT_CERTIFICATE, "issuing.key.pem", ISSUING_CERTIFICATE, "chain.pem", "ca.json")


def utcnow() -> datetime:
    return Clock().utcnow()


@dataclass(frozen=True)
class CaSummary:
    """What `kiosk ca show` prints about one CA certificate."""

    role: str
    subject: str
    serial: str
    not_after: datetime
    days_left: int


@dataclass(frozen=True)
class Profile:
    """The settings the embedded CA writes into subscriber certificates."""

    base_url: str
    bank_code: str
    institution_code: str


class EmbeddedCA:
    def __init__(
        self,
        directory: Path,
        passphrase: str,
        store: Store,
        profile_: Profile,
        clock: Clock | None = None,
    ):
        self.directory = Path(directory)
        self._passphrase = passphrase
        self.store = store
        self.profile = profile_
        self.clock = clock or Clock()  # the date it signs with (kiosk.clock: tests and the demo back-date)
        self._issuer: profile.Issuer | None = None

    def __repr__(self) -> str:  # the passphrase must not reach a traceback
        return f"EmbeddedCA({str(self.directory)!r})"

    # --- creation ----------------------------------------------------------------------------------

    @staticmethod
    def exists(directory: Path) -> bool:
        return all((Path(directory) / name).is_file() for name in FILES)

    @staticmethod
    def create(directory: Path, passphrase: str, demo: bool, now: datetime | None = None) -> None:
        """Create the root and issuing CA in `directory` (must not exist yet), atomically."""
        directory = Path(directory)
        if directory.exists():
            raise CaError(f"{directory} already exists; the CA is created only once")
        now = now or utcnow()
        directory.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        staging = Path(tempfile.mkdtemp(prefix=".ca-", dir=directory.parent))
        try:
            _write_authority(staging, passphrase, demo, now)
            # the kiosk's process (the directory's group) reads the certificates and the CRL; the keys,
            # ca.json and the ledger stay 0600, the CA process's alone
            os.chmod(staging, 0o750)
            os.replace(staging, directory)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        logs.event("pki.ca_created", directory=str(directory), demo=demo)

    # --- the port ----------------------------------------------------------------------------------

    def issue(self, request: CertificateRequest, key: rsa.RSAPrivateKey) -> IssuedCertificate:
        del key  # the embedded CA trusts the kiosk's own key pair; CMP would sign a POP with it
        start = self.clock.utcnow()
        return self._sign(request, start, profile.one_year_after(start))

    def reissue(
        self, request: CertificateRequest, key: rsa.RSAPrivateKey, replaces: str
    ) -> IssuedCertificate:
        del key
        start = self.clock.utcnow()
        old_expiry = self._ledger_not_after(replaces)
        end = old_expiry if old_expiry > start + timedelta(days=1) else profile.one_year_after(start)
        return self._sign(request, start, end)

    def renew(
        self,
        request: CertificateRequest,
        key: rsa.RSAPrivateKey,
        renews: str,
        predecessor: Predecessor | None = None,
    ) -> IssuedCertificate:
        del key, predecessor  # the embedded CA knows its own ledger; CMP signs a kur with the old key
        self._ledger_not_after(renews)  # a serial this CA never signed is refused
        start = self.clock.utcnow()
        return self._sign(request, start, profile.one_year_after(start))

    def revoke(self, serial: str, reason: str) -> None:
        check_reason(reason)
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT revoked_at FROM embedded_ca_issued WHERE serial = ?", (serial,)
            ).fetchone()
            if row is None:
                raise UnknownCertificate(f"the embedded CA never issued {serial}")
            if row["revoked_at"] is not None:
                return
            conn.execute(
                "UPDATE embedded_ca_issued SET revoked_at = ?, revocation_reason = ? WHERE serial = ?",
                (self.clock.utcnow().isoformat(), reason, serial),
            )
        self.publish_crl()

    def unrevoked_serials(self) -> list[str]:
        rows = self.store.query_all("SELECT serial FROM embedded_ca_issued WHERE revoked_at IS NULL")
        return [row["serial"] for row in rows]

    def crl_der(self) -> bytes:
        path = self.directory / CRL_FILE
        if path.is_file():
            data = path.read_bytes()
            crl = x509.load_der_x509_crl(data)
            if crl.next_update_utc and crl.next_update_utc - self.clock.utcnow() > CRL_REFRESH_BEFORE:
                return data
        return self.publish_crl()

    def chain_pem(self) -> bytes:
        self._require()
        return (self.directory / "chain.pem").read_bytes()

    def issuer_name(self) -> str:
        return _cn(self._load_certificate("issuing"))

    # --- technicians -------------------------------------------------------------------------------

    @property
    def is_demo(self) -> bool:
        self._require()
        return bool(json.loads((self.directory / "ca.json").read_text())["demo"])

    def summaries(self) -> list[CaSummary]:
        now = self.clock.utcnow()
        found = []
        for role in ("root", "issuing"):
            cert = self._load_certificate(role)
            found.append(
                CaSummary(
                    role=role,
                    subject=cert.subject.rfc4514_string(),
                    serial=serial_hex(cert.serial_number),
                    not_after=cert.not_valid_after_utc,
                    days_left=(cert.not_valid_after_utc - now).days,
                )
            )
        return found

    def check_passphrase(self) -> None:
        """Open both keys; raises CaPassphraseWrong (used by `kiosk init` and `ca show`)."""
        self._load_key("root")
        self._load_key("issuing")

    def publish_crl(self) -> bytes:
        """Sign a CRL of every revocation in the ledger and replace crl.der atomically."""
        issuer = self._issuer_parts()
        now = self.clock.utcnow()
        with self.store.transaction() as conn:
            number = _next_crl_number(conn)
            revoked = conn.execute(
                "SELECT serial, revoked_at, revocation_reason FROM embedded_ca_issued"
                " WHERE revoked_at IS NOT NULL ORDER BY revoked_at"
            ).fetchall()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.certificate.subject)
            .last_update(now)
            .next_update(now + CRL_LIFETIME)
            .add_extension(x509.CRLNumber(number), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.certificate.public_key()),
                critical=False,
            )
        )
        for row in revoked:
            builder = builder.add_revoked_certificate(_revoked_entry(row))
        data = builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
        _replace_file(self.directory / CRL_FILE, data, 0o644)
        logs.event("pki.crl_published", crl_number=number, revoked=len(revoked))
        return data

    # --- inside ------------------------------------------------------------------------------------

    def _sign(self, request: CertificateRequest, start: datetime, end: datetime) -> IssuedCertificate:
        issuer = self._issuer_parts()
        if end > issuer.certificate.not_valid_after_utc:
            raise CaError("the issuing CA expires before this certificate would: renew the CA")
        serial, number = self._allocate(start.date(), end)
        cn = profile.common_name(request.real_name, request.english_name, number)
        certificate = profile.build_certificate(
            issuer=issuer,
            subject=profile.subject_name(cn, self.profile.bank_code),
            public_key=request.public_key,
            serial=serial,
            real_name=request.real_name,
            vid=compute_vid(request.idn, request.r) if request.idn else None,
            not_before=start,
            not_after=end,
        )
        return IssuedCertificate(certificate=certificate, issuer_name=_cn(issuer.certificate))

    def _allocate(self, issued_on: date, not_after: datetime) -> tuple[int, str]:
        """A fresh random serial and CN number, recorded in the ledger so that neither repeats."""
        for _ in range(20):
            serial = x509.random_serial_number()
            number = profile.cn_number(
                self.profile.institution_code, issued_on, f"{secrets.randbelow(10**9):09d}"
            )
            try:
                with self.store.transaction() as conn:
                    conn.execute(
                        "INSERT INTO embedded_ca_issued(serial, cn_number, not_after, issued_at)"
                        " VALUES (?, ?, ?, ?)",
                        (serial_hex(serial), number, not_after.isoformat(), self.clock.utcnow().isoformat()),
                    )
            except sqlite3.IntegrityError:
                continue
            return serial, number
        raise CaError("could not allocate a unique serial and CN number")

    def _ledger_not_after(self, serial: str) -> datetime:
        row = self.store.query_one("SELECT not_after FROM embedded_ca_issued WHERE serial = ?", (serial,))
        if row is None:
            raise UnknownCertificate(f"the embedded CA never issued {serial}")
        return datetime.fromisoformat(row["not_after"])

    def _issuer_parts(self) -> profile.Issuer:
        if self._issuer is None:
            self._issuer = profile.Issuer(
                certificate=self._load_certificate("issuing"),
                key=self._load_key("issuing"),
                base_url=self.profile.base_url.rstrip("/"),
            )
        return self._issuer

    def _require(self) -> None:
        if not self.exists(self.directory):
            raise CaNotInitialised(f"no embedded CA in {self.directory}: run `kiosk init`")

    def _load_certificate(self, role: str) -> x509.Certificate:
        self._require()
        return x509.load_pem_x509_certificate((self.directory / _certificate_file(role)).read_bytes())

    def _load_key(self, role: str) -> rsa.RSAPrivateKey:
        self._require()
        data = (self.directory / f"{role}.key.pem").read_bytes()
        try:
            key = serialization.load_pem_private_key(data, password=self._passphrase.encode())
        except (ValueError, TypeError):
            raise CaPassphraseWrong(
                f"KIOSK_CA_PASSPHRASE does not open {self.directory / f'{role}.key.pem'}"
            ) from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise CaError(f"{role}.key.pem is not an RSA key")
        return key


# --- creating the authority ----------------------------------------------------------------------------


def _write_authority(directory: Path, passphrase: str, demo: bool, now: datetime) -> None:
    if not passphrase:
        raise CaError("KIOSK_CA_PASSPHRASE is empty")
    suffix = " DEMO" if demo else ""
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    root_name = _ca_name(f"cert-kiosk Root CA{suffix}")
    root = _ca_certificate(root_name, root_key.public_key(), root_name, root_key, None, now, ROOT_YEARS, 1)
    issuing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issuing = _ca_certificate(
        _ca_name(f"cert-kiosk Issuing CA{suffix}"),
        issuing_key.public_key(),
        root_name,
        root_key,
        root,
        now,
        ISSUING_YEARS,
        0,
    )
    encryption = serialization.BestAvailableEncryption(passphrase.encode())
    for role, key, cert in (("root", root_key, root), ("issuing", issuing_key, issuing)):
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        _write_new(directory / f"{role}.key.pem", pem, 0o600)
        # certificates are public: the kiosk's process reads them, the keys are the CA process's alone
        _write_new(directory / _certificate_file(role), cert.public_bytes(serialization.Encoding.PEM), 0o644)
    chain = issuing.public_bytes(serialization.Encoding.PEM) + root.public_bytes(serialization.Encoding.PEM)
    _write_new(directory / "chain.pem", chain, 0o644)
    meta = {"demo": demo, "created": now.isoformat()}
    _write_new(directory / "ca.json", json.dumps(meta).encode(), 0o600)


def _certificate_file(role: str) -> str:
    return {"root": ROOT_CERTIFICATE, "issuing": ISSUING_CERTIFICATE}[role]


def _ca_name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cert-kiosk"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _ca_certificate(subject, public_key, issuer_name, signing_key, issuer_cert, now, years, path_length):
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now.replace(year=now.year + years, day=min(now.day, 28)))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


def _cn(certificate: x509.Certificate) -> str:
    return str(certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


# --- files and the ledger ------------------------------------------------------------------------------


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create `path` with `mode` from the first byte (no window where a key file is world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _replace_file(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    _write_new(temporary, data, mode)
    os.replace(temporary, path)


def _next_crl_number(conn: sqlite3.Connection) -> int:
    conn.execute("INSERT OR IGNORE INTO embedded_ca_crl(id, crl_number) VALUES (1, 0)")
    conn.execute("UPDATE embedded_ca_crl SET crl_number = crl_number + 1 WHERE id = 1")
    return conn.execute("SELECT crl_number FROM embedded_ca_crl WHERE id = 1").fetchone()[0]


def _revoked_entry(row: sqlite3.Row) -> x509.RevokedCertificate:
    builder = (
        x509.RevokedCertificateBuilder()
        .serial_number(int(row["serial"], 16))
        .revocation_date(datetime.fromisoformat(row["revoked_at"]))
    )
    reason = check_reason(row["revocation_reason"])
    if reason is not x509.ReasonFlags.unspecified:  # RFC 5280: omit reasonCode rather than say unspecified
        builder = builder.add_extension(x509.CRLReason(reason), critical=False)
    return builder.build()

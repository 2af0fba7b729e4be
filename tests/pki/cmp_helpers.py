"""A real CMP peer for the tests: OpenSSL 3's `openssl cmp` mock server on a free loopback port, plus the
CA-side material (the embedded demo CA as issuer and CMP signer, a KEK certificate for EncryptedVID).

The mock server returns the fixed certificate given as -rsp_cert, so each test issues that certificate
with the embedded CA for the key the kiosk will use, then lets the CMP adapter fetch it over the wire.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pki_helpers import OPENSSL

from kiosk.pki.cmp import CmpConfig, HttpTransport
from tests.conftest import free_port


def require_openssl_cmp() -> None:
    """Fail (not skip) with the reason when this OpenSSL has no CMP (it appeared in 3.0)."""
    try:
        result = subprocess.run([OPENSSL, "cmp", "-help"], capture_output=True, check=False, timeout=10)
    except FileNotFoundError:
        pytest.fail(f"{OPENSSL} is missing: `make test` installs the Debian package openssl (3.0 or later)")
    if b"-srv_secret" not in result.stdout + result.stderr:
        pytest.fail(f"{OPENSSL} has no `cmp` server mode: OpenSSL 3.0 or later built with CMP is needed")


def write_pem(path: Path, *items) -> Path:
    data = b""
    for item in items:
        if isinstance(item, x509.Certificate):
            data += item.public_bytes(serialization.Encoding.PEM)
        else:
            data += item.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
    path.write_bytes(data)
    return path


def kek_certificate(
    issuer_cert: x509.Certificate, issuer_key, days: int = 30
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """The CA's key-encryption certificate (RSA, keyEncipherment), as a CA would publish it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cert-kiosk KEK DEMO")]))
        .issuer_name(issuer_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(
            x509.KeyUsage(False, False, True, False, False, False, False, False, False), critical=True
        )
        .sign(issuer_key, hashes.SHA256())
    )
    return certificate, key


class RecordingTransport(HttpTransport):
    """The real HTTP transport, keeping what was sent and received so tests can decode the messages."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent: list[bytes] = []
        self.received: list[bytes] = []

    def send(self, message: bytes) -> bytes:
        self.sent.append(message)
        reply = super().send(message)
        self.received.append(reply)
        return reply


@dataclass
class CmpServer:
    """`openssl cmp -port` running until `stop`; its output is kept for the failure message."""

    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(directory: Path, rsp_cert: Path, *options: str) -> CmpServer:
    port = free_port()
    if "-srv_cert" not in options:  # a MAC-only server names itself by reference
        options = ("-srv_ref", "cert-kiosk test CA", *options)
    log = directory / f"cmp-server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [OPENSSL, "cmp", "-config", "", "-port", str(port), "-rsp_cert", str(rsp_cert), *options],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = CmpServer(process, port, log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"openssl cmp server exited: {server.output()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    pytest.fail(f"openssl cmp server did not listen on {port}: {server.output()}")


def config_for(url: str, chain: list[x509.Certificate], kek: x509.Certificate, **overrides) -> CmpConfig:
    values = dict(
        url=url,
        ca_certificates=tuple(chain),
        kek_certificate=kek,
        bank_code="KPB",
        timeout=10,
        retries=0,
        total_timeout=30,
    )
    values.update(overrides)
    return CmpConfig(**values)

"""Conformance from an independent side: Debian's `openssl cmp` CLIENT enrols (ir, cr, kur), confirms
(certConf), and revokes (rr) at the embedded CA's responder over real HTTP; and the refusals a CA owes
(wrong POP, wrong MAC, a replayed transaction ID, a kur signed by another key, a revoked certificate),
each answered with the right failInfo."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cmp_helpers import require_openssl_cmp, write_pem
from cryptography import x509
from pki_helpers import OPENSSL, RRN
from pyasn1.codec.der import decoder
from pyasn1_modules import rfc4210
from responder_helpers import start_responder

from kiosk.pki.ca import CertificateRequest
from kiosk.pki.cmp import HttpTransport
from kiosk.pki.cmp import messages as m
from kiosk.pki.cmp.encrypted_vid import ENCRYPTED_VID, encrypt_vid
from kiosk.pki.cmp.registration import DemoRegistrationAgent
from kiosk.pki.embedded import EmbeddedCA, Profile
from kiosk.pki.keys import generate_key
from kiosk.pki.vid import generate_r
from kiosk.settings import DEMO_CA_PASSPHRASE

REFERENCE, CODE = "4711", "0815-demo-code"


@pytest.fixture
def embedded(installed_ca, store) -> EmbeddedCA:
    return EmbeddedCA(installed_ca, DEMO_CA_PASSPHRASE, store, Profile("http://kiosk.test/pki", "KPB", "11"))


@pytest.fixture
def responder(embedded):
    require_openssl_cmp()
    found = start_responder(embedded)
    yield found
    found.server.stop()


class OpensslClient:
    """`openssl cmp` as a client of the responder, with the CA's certificates and fresh keys in `tmp`."""

    def __init__(self, responder, tmp: Path):
        self.responder = responder
        self.tmp = tmp
        self.issuing = write_pem(tmp / "issuing.pem", responder.issuing)
        self.root = write_pem(tmp / "root.pem", responder.root)
        self.recipient = "/" + "/".join(
            f"{a.rfc4514_attribute_name}={a.value}" for a in responder.issuing.subject)
        self.count = 0

    def key(self) -> tuple[object, Path]:
        self.count += 1
        key = generate_key()
        return key, write_pem(self.tmp / f"key{self.count}.pem", key)

    def run(self, *options: str) -> subprocess.CompletedProcess:
        command = [OPENSSL, "cmp", "-config", "", "-server", f"127.0.0.1:{self.responder.server.port}",
                   "-path", "/", "-trusted", str(self.root), "-recipient", self.recipient, *options]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    def enrol(self, command: str, *options: str) -> tuple[x509.Certificate, object, Path, Path]:
        key, key_path = self.key()
        out = self.tmp / f"cert{self.count}.pem"
        result = self.run("-cmd", command, "-newkey", str(key_path), "-certout", str(out), *options)
        assert result.returncode == 0, result.stdout + result.stderr
        return x509.load_pem_x509_certificate(out.read_bytes()), key, key_path, out

    def mac(self, purpose: str) -> tuple[str, ...]:
        self.responder.responder.secrets.register(REFERENCE, CODE.encode(), purpose)
        return ("-ref", REFERENCE, "-secret", f"pass:{CODE}")


@pytest.fixture
def openssl(responder, tmp_path) -> OpensslClient:
    return OpensslClient(responder, tmp_path)


def revoked(embedded: EmbeddedCA, certificate: x509.Certificate) -> bool:
    crl = x509.load_der_x509_crl(embedded.crl_der())
    return crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None


def test_openssl_ir_cr_kur_certconf_and_rr_succeed(openssl, embedded, responder):
    first, key, key_path, cert_path = openssl.enrol("ir", *openssl.mac("issue"), "-subject", "/CN=TEST(TEST)")
    assert first.public_key().public_numbers() == key.public_key().public_numbers()
    first.verify_directly_issued_by(responder.issuing)
    assert first.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value.startswith("TEST(TEST)0011041")
    assert embedded.store.query_one("SELECT 1 FROM embedded_ca_issued WHERE serial = ?",
                                    (f"{first.serial_number:040X}",))

    second, *_ = openssl.enrol("cr", *openssl.mac("reissue"), "-subject", "/CN=TEST(TEST)")
    assert second.serial_number != first.serial_number

    renewed, renewed_key, renewed_key_path, renewed_path = openssl.enrol(
        "kur", "-cert", str(cert_path), "-key", str(key_path))
    assert renewed.public_key().public_numbers() == renewed_key.public_key().public_numbers()
    assert renewed.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value.startswith("TEST(TEST)")

    result = openssl.run("-cmd", "rr", "-oldcert", str(renewed_path), "-revreason", "1", *openssl.mac("rr"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert revoked(embedded, renewed)

    # a certificate revoking itself: rr signed with its own key
    result = openssl.run("-cmd", "rr", "-oldcert", str(cert_path), "-cert", str(cert_path),
                         "-key", str(key_path), "-revreason", "4")
    assert result.returncode == 0, result.stdout + result.stderr
    assert revoked(embedded, first)


def test_openssl_genm_gets_the_ca_certificates(openssl, responder, tmp_path):
    result = openssl.run("-cmd", "genm", "-infotype", "caCerts", "-unprotected_requests", "-ref", "genm")
    # OpenSSL 3.0 knows no "caCerts" name; the OID answers the same genm
    if result.returncode != 0 and "caCerts" in result.stderr:
        result = openssl.run("-cmd", "genm", "-infotype", "1.3.6.1.5.5.7.4.17", "-unprotected_requests", "-ref", "genm")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1.3.6.1.5.5.7.4.17" in result.stdout + result.stderr or "caCerts" in result.stdout + result.stderr


def test_a_wrong_mac_is_refused_with_bad_message_check(openssl):
    openssl.mac("issue")
    key, key_path = openssl.key()
    result = openssl.run("-cmd", "ir", "-ref", REFERENCE, "-secret", "pass:not-the-code", "-newkey", str(key_path),
                         "-subject", "/CN=TEST(TEST)", "-certout", str(openssl.tmp / "never.pem"))
    assert result.returncode != 0
    assert "badMessageCheck" in result.stdout + result.stderr, result.stderr


def test_a_code_registered_for_another_purpose_is_refused(openssl):
    key, key_path = openssl.key()
    result = openssl.run("-cmd", "ir", *openssl.mac("rr"), "-newkey", str(key_path),
                         "-subject", "/CN=TEST(TEST)", "-certout", str(openssl.tmp / "never.pem"))
    assert result.returncode != 0
    assert "badMessageCheck" in result.stdout + result.stderr, result.stderr


def test_a_request_without_signature_pop_is_refused_with_bad_pop(openssl):
    key, key_path = openssl.key()
    result = openssl.run("-cmd", "ir", *openssl.mac("issue"), "-newkey", str(key_path), "-popo", "0",
                         "-subject", "/CN=TEST(TEST)", "-certout", str(openssl.tmp / "never.pem"))
    assert result.returncode != 0
    assert "badPOP" in result.stdout + result.stderr, result.stderr


def test_a_kur_with_a_revoked_certificate_is_refused_with_cert_revoked(openssl, embedded):
    certificate, key, key_path, cert_path = openssl.enrol("ir", *openssl.mac("issue"), "-subject", "/CN=TEST(TEST)")
    embedded.revoke(f"{certificate.serial_number:040X}", "keyCompromise")
    new_key, new_key_path = openssl.key()
    result = openssl.run("-cmd", "kur", "-cert", str(cert_path), "-key", str(key_path),
                         "-newkey", str(new_key_path), "-certout", str(openssl.tmp / "never.pem"))
    assert result.returncode != 0
    assert "certRevoked" in result.stdout + result.stderr, result.stderr


# --- messages openssl will not send: built with the kiosk's message code, sent over real HTTP ------------


def refusal(responder, message: bytes) -> m.Status:
    reply = m.read_reply(HttpTransport(responder.url, 10, 0).send(message))
    assert reply.kind == "error", reply.kind
    assert m.verify_signature(reply, responder.responder.signer), "the CA signs its refusals"
    assert reply.sent_by(responder.responder.signer.subject)
    return m.status_of(reply.body["pKIStatusInfo"])


def demo_ir(responder, key, pop_key, transaction=None) -> tuple[m.Transaction, bytes]:
    request = CertificateRequest("홍길동", "", RRN, generate_r(), key.public_key())
    authorisation = DemoRegistrationAgent().authorise(request, "issue")
    transaction = transaction or m.Transaction(x509.Name([]), responder.issuing.subject,
                                               m.MacProtection(authorisation.reference, authorisation.secret))
    vid = encrypt_vid(RRN, request.r, responder.issuing)
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "홍길동()")])
    body = m.cert_request(key.public_key(), pop_key, subject, [(ENCRYPTED_VID, vid)])
    return transaction, transaction.message("ir", body)


def test_a_pop_signed_by_another_key_is_refused_with_bad_pop(responder):
    _, message = demo_ir(responder, generate_key(), generate_key())
    status = refusal(responder, message)
    assert (status.status, status.fail_info) == (m.REJECTION, ("badPOP",))


def test_a_replayed_transaction_id_is_refused_with_transaction_id_in_use(responder):
    key = generate_key()
    transaction, message = demo_ir(responder, key, key)
    first = m.read_reply(HttpTransport(responder.url, 10, 0).send(message))
    assert first.kind == "ip"
    _, again = demo_ir(responder, key, key, transaction)  # same transactionID, fresh nonce and MAC
    assert refusal(responder, again).fail_info == ("transactionIdInUse",)
    assert refusal(responder, message).fail_info == ("transactionIdInUse",)  # the very same bytes


def test_a_kur_signed_by_another_key_is_refused_with_bad_message_check(responder):
    key = generate_key()
    transaction, message = demo_ir(responder, key, key)
    reply = m.read_reply(HttpTransport(responder.url, 10, 0).send(message))
    old = m.certificate_of(reply.body["response"][0])
    new_key = generate_key()
    kur = m.Transaction(old.subject, responder.issuing.subject, m.SignatureProtection(old, generate_key()))
    body = m.cert_request(new_key.public_key(), new_key, old.subject, [], (old.issuer, old.serial_number))
    status = refusal(responder, kur.message("kur", body))
    assert status.fail_info == ("badMessageCheck",)


def test_a_kur_signed_by_a_foreign_certificate_is_refused_with_signer_not_trusted(responder, tmp_path):
    from datetime import UTC, datetime, timedelta

    from cryptography.hazmat.primitives import hashes

    foreign_key = generate_key()  # same issuer name as this CA, signed by another key: another CA's
    now = datetime.now(UTC)
    foreign = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "홍길동()")]))
        .issuer_name(responder.issuing.subject).public_key(foreign_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(foreign_key.public_key()), critical=False)
        .sign(generate_key(), hashes.SHA256())
    )
    new_key = generate_key()
    kur = m.Transaction(foreign.subject, responder.issuing.subject, m.SignatureProtection(foreign, foreign_key))
    body = m.cert_request(new_key.public_key(), new_key, foreign.subject, [])
    assert refusal(responder, kur.message("kur", body)).fail_info == ("signerNotTrusted",)


def test_garbage_is_answered_with_a_cmp_error(responder):
    status = refusal(responder, b"\x30\x03\x02\x01\x00")
    assert status.fail_info == ("badDataFormat",)
    value, _ = decoder.decode(HttpTransport(responder.url, 10, 0).send(b"junk"), asn1Spec=rfc4210.PKIMessage())
    assert value["body"].getName() == "error"

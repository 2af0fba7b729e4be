"""The CMP adapter against a real CMP peer (OpenSSL 3's `openssl cmp` mock server on loopback): ir, cr, kur,
rr, certConf, polling, and the refusals a customer or technician must be told about. The messages the
adapter actually sent are decoded with the RFC 4210/4211 modules, and the EncryptedVID is opened with the
KEK private key as the CA would open it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pytest
from cmp_helpers import (
    RecordingTransport,
    config_for,
    kek_certificate,
    require_openssl_cmp,
    start_server,
    write_pem,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pki_helpers import PASSWORD, RRN, write_bundle
from pyasn1.codec.der import decoder, encoder
from pyasn1_modules import rfc4210, rfc4211

from kiosk.pki.ca import CertificateRequest, Predecessor
from kiosk.pki.cmp import CmpCA
from kiosk.pki.cmp import messages as m
from kiosk.pki.cmp.encrypted_vid import ENCRYPTED_VID, decrypt_vid
from kiosk.pki.cmp.registration import DemoRegistrationAgent
from kiosk.pki.embedded import EmbeddedCA, Profile
from kiosk.pki.errors import CaProtocolError, CaRejected, CaUnreachable, ReferenceRejected
from kiosk.pki.issuance import IssuanceService
from kiosk.pki.keys import generate_key
from kiosk.pki.profile import read_identify_data
from kiosk.pki.registry import Registry
from kiosk.pki.verify import verify_bundle
from kiosk.pki.vid import compute_vid, generate_r
from kiosk.settings import DEMO_CA_PASSPHRASE
from tests.conftest import free_port, send_json

AGENT = DemoRegistrationAgent()


@dataclass
class Authority:
    """The CA side: the embedded demo CA issues what the mock server hands out; KEK for EncryptedVID."""

    embedded: EmbeddedCA
    issuing: x509.Certificate
    issuing_key: rsa.RSAPrivateKey
    root: x509.Certificate
    kek: x509.Certificate
    kek_key: rsa.RSAPrivateKey
    directory: Path

    def certificate_for(self, key, idn=RRN, r=None, name="홍길동") -> tuple[x509.Certificate, Path, bytes]:
        r = r or generate_r()
        issued = self.embedded.issue(CertificateRequest(name, "HONG GILDONG", idn, r, key.public_key()), key)
        path = write_pem(self.directory / f"rsp-{issued.serial}.pem", issued.certificate)
        return issued.certificate, path, r

    def server(self, rsp_cert: Path, *options: str):
        server = start_server(self.directory, rsp_cert, *options)
        self._servers.append(server)
        return server

    def adapter(self, url: str, **overrides) -> tuple[CmpCA, RecordingTransport]:
        config = config_for(url, [self.issuing, self.root], self.kek, **overrides)
        transport = RecordingTransport(config.url, config.timeout, config.retries, sleep=lambda s: None)
        return CmpCA(config, AGENT, transport), transport

    def request(self, key, r) -> CertificateRequest:
        return CertificateRequest("홍길동", "HONG GILDONG", RRN, r, key.public_key())


@pytest.fixture
def authority(installed_ca, store, tmp_path):
    require_openssl_cmp()
    embedded = EmbeddedCA(
        installed_ca, DEMO_CA_PASSPHRASE, store, Profile("http://kiosk.test/pki", "KPB", "11")
    )
    issuer = embedded._issuer_parts()
    root = x509.load_pem_x509_certificate((installed_ca / "root.crt.pem").read_bytes())
    kek, kek_key = kek_certificate(issuer.certificate, issuer.key)
    found = Authority(embedded, issuer.certificate, issuer.key, root, kek, kek_key, tmp_path)
    found._servers = []
    yield found
    for server in found._servers:
        server.stop()


def secret_for(purpose: str, idn: str = RRN) -> str:
    request = CertificateRequest("홍길동", "", idn, b"\0" * 20, generate_key().public_key())
    return f"pass:{AGENT.authorise(request, purpose).code}"


def decode(message: bytes) -> rfc4210.PKIMessage:
    value, rest = decoder.decode(message, asn1Spec=rfc4210.PKIMessage())
    assert rest == b""
    assert encoder.encode(value) == message, "not DER: re-encoding differs"
    return value


def body_kinds(messages: list[bytes]) -> list[str]:
    # replies through the adapter's reader: pyasn1-modules' rfc4210 cannot decode an rp with revCerts
    return [m.read_reply(message).kind for message in messages]


# --- against openssl cmp -------------------------------------------------------------------------------


def test_ir_issues_a_certificate_written_as_a_bundle(authority, store, tmp_path, applicant, caplog, pki_settings):
    caplog.set_level(logging.INFO)
    key = generate_key()
    certificate, rsp, r = authority.certificate_for(key)
    server = authority.server(rsp, "-srv_secret", secret_for("issue"))
    ca, transport = authority.adapter(server.url)
    pki = pki_settings.pki
    service = IssuanceService(ca, Registry(store), pki.ca_folder, pki.renewal_window, key_and_r=lambda: (key, r))

    prepared = service.prepare(applicant, PASSWORD)

    assert body_kinds(transport.sent) == ["ir", "certConf"], server.output()
    assert body_kinds(transport.received) == ["ip", "pkiconf"]
    assert prepared.serial == f"{certificate.serial_number:040X}"
    folder = write_bundle(tmp_path / "drive", prepared.bundle)
    check = verify_bundle(
        (folder / "signCert.der").read_bytes(),
        (folder / "signPri.key").read_bytes(),
        PASSWORD,
        idn=RRN,
        chain_pem=ca.chain_pem(),
    )
    assert check.serial == certificate.serial_number
    assert "pki.cmp_enrolled operation=ir" in caplog.text


def test_the_ir_carries_pop_mac_and_an_encrypted_vid_the_ca_can_open(authority):
    key = generate_key()
    certificate, rsp, r = authority.certificate_for(key)
    server = authority.server(rsp, "-srv_secret", secret_for("issue"))
    ca, transport = authority.adapter(server.url)
    ca.issue(authority.request(key, r), key)

    ir = decode(transport.sent[0])
    header = ir["header"]
    assert str(header["protectionAlg"]["algorithm"]) == m.PASSWORD_BASED_MAC
    reference = AGENT.authorise(authority.request(key, r), "issue").reference
    assert bytes(header["senderKID"]) == reference.encode()
    # the body against RFC 4211's own module, not only the rfc2511 types PKIBody embeds
    tagged = encoder.encode(ir["body"]["ir"])  # [0] EXPLICIT CertReqMessages
    start, end = m._tlv(tagged, 0)
    crmf, rest = decoder.decode(tagged[start:end], asn1Spec=rfc4211.CertReqMessages())
    assert rest == b""
    message = crmf[0]
    template = message["certReq"]["certTemplate"]
    assert bytes(template["publicKey"]["subjectPublicKey"].asOctets()) == _public_key_bits(key)
    key.public_key().verify(
        message["popo"]["signature"]["signature"].asOctets(),
        encoder.encode(message["certReq"]),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    (info,) = message["regInfo"]
    assert str(info["type"]) == ENCRYPTED_VID
    idn, sent_r = decrypt_vid(bytes(info["value"]), authority.kek, authority.kek_key)
    assert (idn, sent_r) == (RRN, r)
    assert compute_vid(idn, sent_r) == read_identify_data(certificate)[1]
    # the MAC verifies with the authorisation code over the message's own protected part
    reply = m.read_reply(transport.sent[0])
    assert m.verify_mac(reply, AGENT.authorise(authority.request(key, r), "issue").secret)
    assert not m.verify_mac(reply, b"another code")


def _public_key_bits(key) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from pyasn1_modules import rfc5280

    spki, _ = decoder.decode(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        asn1Spec=rfc5280.SubjectPublicKeyInfo(),
    )
    return spki["subjectPublicKey"].asOctets()


def test_cr_reissues_with_the_old_certificate_named(authority):
    old_key, key = generate_key(), generate_key()
    old, _, _ = authority.certificate_for(old_key)
    certificate, rsp, r = authority.certificate_for(key)
    server = authority.server(rsp, "-srv_secret", secret_for("reissue"))
    ca, transport = authority.adapter(server.url)

    issued = ca.reissue(authority.request(key, r), key, f"{old.serial_number:040X}")

    assert issued.certificate == certificate
    assert body_kinds(transport.sent) == ["cr", "certConf"], server.output()
    (control,) = decode(transport.sent[0])["body"]["cr"][0]["certReq"]["controls"]
    assert control["type"] == rfc4211.id_regCtrl_oldCertID
    old_id, _ = decoder.decode(bytes(control["value"]), asn1Spec=rfc4211.CertId())
    assert int(old_id["serialNumber"]) == old.serial_number


def test_kur_renews_signed_with_the_old_key(authority):
    old_key, key = generate_key(), generate_key()
    certificate, rsp, r = authority.certificate_for(key)
    # OpenSSL's mock server accepts a kur only when oldCertID names its -rsp_cert (issuer and serial),
    # so the old certificate here shares the new one's serial; a real CA names two certificates
    old = _same_serial_for(authority, certificate, old_key)
    directory = authority.directory
    server = authority.server(
        rsp,
        "-srv_cert", str(write_pem(directory / "srv.pem", authority.issuing)),
        "-srv_key", str(write_pem(directory / "srv.key", authority.issuing_key)),
        "-srv_trusted", str(write_pem(directory / "trusted.pem", authority.root)),
        "-srv_untrusted", str(write_pem(directory / "untrusted.pem", authority.issuing)),
    )  # fmt: skip
    ca, transport = authority.adapter(server.url)

    issued = ca.renew(authority.request(key, r), key, f"{old.serial_number:040X}", Predecessor(old, old_key))

    assert issued.certificate == certificate
    assert body_kinds(transport.sent) == ["kur", "certConf"], server.output()
    kur = decode(transport.sent[0])
    assert str(kur["header"]["protectionAlg"]["algorithm"]) == m.SHA256_WITH_RSA
    reply = m.read_reply(transport.sent[0])
    assert m.verify_signature(reply, old)
    assert (
        bytes(kur["header"]["senderKID"])
        == old.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    )


def _same_serial_for(authority, certificate, key) -> x509.Certificate:
    from kiosk.pki import profile

    issuer = authority.embedded._issuer_parts()
    real_name, vid = read_identify_data(certificate)
    return profile.build_certificate(
        issuer, certificate.subject, key.public_key(), certificate.serial_number, real_name, vid,
        certificate.not_valid_before_utc, certificate.not_valid_after_utc,
    )  # fmt: skip


def test_rr_revokes(authority):
    key = generate_key()
    certificate, rsp, _ = authority.certificate_for(key)
    serial = f"{certificate.serial_number:040X}"
    server = authority.server(rsp, "-srv_secret", f"pass:{AGENT.authorise_revocation(serial).code}")
    ca, transport = authority.adapter(server.url)

    ca.revoke(serial, "superseded")

    rr = decode(transport.sent[0])["body"]["rr"][0]
    assert int(rr["certDetails"]["serialNumber"]) == certificate.serial_number
    reason = rr["crlEntryDetails"][0]
    assert str(reason["extnID"]) == m.REASON_CODE and bytes(reason["extnValue"]) == b"\x0a\x01\x04"
    assert body_kinds(transport.received) == ["rp"]


def test_revoking_what_the_ca_reports_revoked_already_is_a_no_op(authority):
    key = generate_key()
    certificate, rsp, _ = authority.certificate_for(key)
    serial = f"{certificate.serial_number:040X}"
    server = authority.server(
        rsp, "-srv_secret", f"pass:{AGENT.authorise_revocation(serial).code}",
        "-pkistatus", "2", "-failure", "10", "-statusstring", "already revoked",
    )  # fmt: skip
    ca, transport = authority.adapter(server.url)
    ca.revoke(serial, "cessationOfOperation")
    assert body_kinds(transport.received) == ["rp"]


def test_the_ca_says_waiting_and_the_adapter_polls(authority, caplog):
    caplog.set_level(logging.INFO)
    key = generate_key()
    certificate, rsp, r = authority.certificate_for(key)
    server = authority.server(
        rsp, "-srv_secret", secret_for("issue"), "-poll_count", "2", "-check_after", "1"
    )
    ca, transport = authority.adapter(server.url)

    assert ca.issue(authority.request(key, r), key).certificate == certificate

    # -poll_count 2: the ip says waiting, the first pollReq gets a pollRep, the second the certificate
    assert body_kinds(transport.sent) == ["ir", "pollReq", "pollReq", "certConf"], server.output()
    assert body_kinds(transport.received) == ["ip", "pollRep", "ip", "pkiconf"]
    assert caplog.text.count("pki.cmp_waiting operation=ir check_after=1") == 1


def test_polling_stops_at_the_total_timeout(authority):
    key = generate_key()
    _, rsp, r = authority.certificate_for(key)
    server = authority.server(
        rsp, "-srv_secret", secret_for("issue"), "-poll_count", "5", "-check_after", "20"
    )
    ca, _ = authority.adapter(server.url, total_timeout=10)
    with pytest.raises(CaUnreachable, match="did not deliver within 10 s"):
        ca.issue(authority.request(key, r), key)


def test_a_wrong_authorisation_code_tells_the_customer_to_get_a_new_one(authority, caplog):
    key = generate_key()
    _, rsp, r = authority.certificate_for(key)
    server = authority.server(rsp, "-srv_secret", "pass:0000000000000000")
    ca, _ = authority.adapter(server.url)

    with pytest.raises(ReferenceRejected) as raised:
        ca.issue(authority.request(key, r), key)

    assert raised.value.code == "reference_rejected"
    assert "pki.cmp_reference_rejected operation=ir" in caplog.text
    assert AGENT.authorise(authority.request(key, r), "issue").code not in caplog.text


def test_a_rejection_keeps_the_cas_words_for_the_technician(authority, caplog):
    key = generate_key()
    _, rsp, r = authority.certificate_for(key)
    server = authority.server(
        rsp, "-srv_secret", secret_for("issue"),
        "-pkistatus", "2", "-failure", "19", "-statusstring", "subject not registered",
    )  # fmt: skip
    ca, transport = authority.adapter(server.url)

    with pytest.raises(CaRejected) as raised:
        ca.issue(authority.request(key, r), key)

    assert type(raised.value) is CaRejected and raised.value.code == "ca_rejected"
    assert raised.value.status_text == "subject not registered"
    assert raised.value.fail_info == ("badCertTemplate",)
    assert 'pki.cmp_rejected operation=ir status=2 status_text="subject not registered"' in caplog.text
    assert body_kinds(transport.sent) == ["ir"]  # nothing to confirm


def test_an_error_message_from_the_ca_is_a_rejection(authority, caplog):
    key = generate_key()
    _, rsp, r = authority.certificate_for(key)
    server = authority.server(rsp, "-srv_secret", secret_for("issue"), "-send_error")
    ca, transport = authority.adapter(server.url)
    with pytest.raises(CaRejected):
        ca.issue(authority.request(key, r), key)
    assert body_kinds(transport.received) == ["error"]


def test_a_certificate_for_another_key_is_refused_with_a_negative_certconf(authority, caplog):
    key, other = generate_key(), generate_key()
    _, rsp, r = authority.certificate_for(other)
    server = authority.server(rsp, "-srv_secret", secret_for("issue"))
    ca, transport = authority.adapter(server.url)

    with pytest.raises(CaProtocolError, match="not for the key"):
        ca.issue(authority.request(key, r), key)

    assert body_kinds(transport.sent) == ["ir", "certConf"]
    status = decode(transport.sent[1])["body"]["certConf"][0]["statusInfo"]
    assert int(status["status"]) == m.REJECTION
    assert "pki.cmp_certificate_refused" in caplog.text


def test_an_unreachable_ca_is_retried_then_reported(authority, caplog):
    ca, transport = authority.adapter(f"http://127.0.0.1:{free_port()}/", retries=2)
    key = generate_key()
    with pytest.raises(CaUnreachable) as raised:
        ca.issue(authority.request(key, generate_r()), key)
    assert raised.value.code == "ca_unreachable"
    assert caplog.text.count("pki.cmp_retry") == 3
    assert len(transport.received) == 0


def test_a_server_that_is_not_cmp_is_unreachable_not_a_crash(authority, live_server):
    ca, _ = authority.adapter(live_server.url + "/pki/crl")  # the kiosk itself: GET only, no CMP
    key = generate_key()
    with pytest.raises(CaUnreachable, match="answered HTTP 405"):
        ca.issue(authority.request(key, generate_r()), key)


# --- message structure without a peer ------------------------------------------------------------------


def test_rr_and_certconf_and_pollreq_decode_with_the_rfc_4210_module(authority):
    transaction = m.Transaction(
        x509.Name([]), authority.issuing.subject, m.MacProtection("12345678", b"code")
    )
    certificate, _, _ = authority.certificate_for(generate_key())
    for kind, body in (
        ("rr", m.revocation_request(authority.issuing.subject, 7, 5)),
        ("certConf", m.cert_confirm(certificate, accepted=True)),
        ("pollReq", m.poll_request()),
    ):
        message = decode(transaction.message(kind, body))
        assert message["body"].getName() == kind
        assert message["header"]["pvno"] == 2
        assert bytes(message["header"]["transactionID"]) == transaction.transaction_id


def test_the_demo_registration_agent_is_deterministic_per_customer_and_purpose():
    request = CertificateRequest("홍길동", "", RRN, b"\0" * 20, generate_key().public_key())
    first, again = AGENT.authorise(request, "issue"), AGENT.authorise(request, "issue")
    assert first == again and len(first.reference) == 8 and len(first.code) == 16
    assert AGENT.authorise(request, "reissue") != first
    assert first.code not in repr(first)


@pytest.mark.parametrize(
    "error, words",
    [
        (CaUnreachable("x"), "인증기관에 연결하지 못했습니다"),
        (ReferenceRejected("x"), "새 참조번호와 인가코드"),
        (CaRejected("x"), "발급 요청을 거절했습니다"),
        (CaProtocolError("x"), "인증서를 발급하지 못했습니다"),
    ],
)
def test_each_ca_error_tells_the_customer_what_to_do(app, error, words):
    from flask import render_template

    with app.test_request_context():
        assert words in render_template("customer/_drive_error.html", error=error.code)


def test_settings_name_what_kiosk_ca_cmp_is_missing(monkeypatch):
    from kiosk.settings import ConfigurationError, Settings

    monkeypatch.setenv("KIOSK_CA", "cmp")
    monkeypatch.setenv("KIOSK_CMP_URL", "http://ca.test/pkix/")
    with pytest.raises(ConfigurationError, match="KIOSK_CMP_CA_CERTS, KIOSK_CMP_KEK_CERT"):
        Settings.from_env()


def test_from_settings_builds_the_cmp_adapter(authority, pki_settings, store):
    directory = authority.directory
    settings = pki_settings.with_overrides(
        ca_backend="cmp",
        cmp_url="http://127.0.0.1:1/",
        cmp_ca_certs=str(write_pem(directory / "chain.pem", authority.issuing, authority.root)),
        cmp_kek_cert=str(write_pem(directory / "kek.pem", authority.kek)),
    )
    settings.validate()
    service = IssuanceService.from_settings(settings.pki, store)
    assert isinstance(service.ca, CmpCA)
    assert service.ca.issuer_name() == "cert-kiosk Issuing CA DEMO"
    assert x509.load_pem_x509_certificates(service.ca_chain_pem()) == [authority.issuing, authority.root]


# --- kiosk doctor with KIOSK_CA=cmp ------------------------------------------------------------------------


@pytest.fixture
def crl_site(authority, tmp_path):
    """The CA's CRL on an ordinary web server on loopback, as a CA publishes it (http.server, a thread)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    site = tmp_path / "site"
    site.mkdir()
    (site / "ca.crl").write_bytes(authority.embedded.crl_der())
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def cmp_settings(authority, pki_settings, cmp_url: str, crl_url: str = "", kek=None):
    folder = authority.directory
    return pki_settings.with_overrides(
        ca_backend="cmp",
        cmp_url=cmp_url,
        cmp_crl_url=crl_url,
        cmp_ca_certs=str(write_pem(folder / "cmp-ca.pem", authority.issuing, authority.root)),
        cmp_kek_cert=str(write_pem(folder / "cmp-kek.pem", kek or authority.kek)),
    )


def test_the_doctor_checks_the_ca_the_kiosk_would_talk_to(authority, pki_settings, crl_site):
    from kiosk.health import doctor
    from kiosk.wiring import build

    _, rsp, _ = authority.certificate_for(generate_key())
    server = authority.server(rsp, "-srv_secret", secret_for("issue"))
    kek, _ = kek_certificate(authority.issuing, authority.issuing_key, days=400)
    settings = cmp_settings(authority, pki_settings, server.url, f"{crl_site}/ca.crl", kek=kek)
    checks = {check.name: check for check in doctor.run(build(settings))}
    assert checks["ca"].ok and "key-encryption certificate valid until" in checks["ca"].detail, checks["ca"]
    assert checks["crl"].ok and "next update" in checks["crl"].detail, checks["crl"]
    # the probe is unauthenticated, so the mock CA answers it with an error message: still CMP
    assert (checks["cmp"].ok, checks["cmp"].detail) == (True, f"{server.url} answers CMP (error)")


def test_the_doctor_says_which_ca_part_is_missing_and_what_to_do(authority, pki_settings, crl_site):
    from kiosk.health import doctor
    from kiosk.wiring import build

    nobody = f"http://127.0.0.1:{free_port()}/"
    settings = cmp_settings(authority, pki_settings, nobody, f"{nobody}ca.crl")
    # the fixture's KEK certificate runs out within 30 days
    kiosk = build(settings)
    ca, crl, cmp = doctor.check_ca(kiosk), doctor.check_crl(kiosk), doctor.check_cmp(kiosk)
    assert not ca.ok and "key-encryption certificate valid until" in ca.detail and "renewed" in ca.fix
    assert not crl.ok and "unavailable" in crl.detail and "KIOSK_CMP_CRL_URL" in crl.fix
    assert not cmp.ok and "did not answer" in cmp.detail and "KIOSK_CMP_URL" in cmp.fix
    # an ordinary web server at the CMP URL (a wrong address) is not taken for the CA
    wrong = doctor.check_cmp(build(cmp_settings(authority, pki_settings, crl_site + "/")))
    assert not wrong.ok and wrong.detail == f"the CA at {crl_site}/ answered HTTP 501"
    # and with the embedded CA the CMP line says it is not in use
    assert doctor.check_cmp(build(pki_settings)).detail == "not used (KIOSK_CA=embedded)"


# --- the bank's registration agent over HTTP ---------------------------------------------------------------

NOT_A_SUBSCRIBER = "8501012345674"


@pytest.fixture
def bank_ra():
    """The bank's registration system on loopback (http.server): it hands out the codes the test CA was
    started with (the demo derivation), refuses one resident number, and keeps what it was asked."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Registry(BaseHTTPRequestHandler):
        def do_POST(self):
            asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.server.asked.append((self.path, asked))
            if self.path == "/api/revocations":
                granted = AGENT.authorise_revocation(asked["serial"])
            elif asked["rrn"] == NOT_A_SUBSCRIBER:
                granted = None
            else:
                request = CertificateRequest(asked["name"], "", asked["rrn"], b"\0" * 20, generate_key().public_key())
                granted = AGENT.authorise(request, asked["purpose"])
            answer = ({"reference": granted.reference, "code": granted.code} if granted else
                      {"refused": True, "reason": "인터넷뱅킹 미가입 고객"})
            if self.server.broken:
                answer = {"reference": 12345678}
            send_json(self, answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    server.asked, server.broken = [], False
    server.url = f"http://127.0.0.1:{server.server_address[1]}/api"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def http_agent(url: str):
    from kiosk.jsonhttp import JsonService
    from kiosk.pki.cmp.registration import HttpRegistrationAgent

    return HttpRegistrationAgent(JsonService(url, CaUnreachable, timeout=5, backoff=0.01))


def test_the_banks_registration_agent_authorises_the_issuance(authority, bank_ra, caplog):
    caplog.set_level(logging.DEBUG)
    key = generate_key()
    certificate, rsp, r = authority.certificate_for(key)
    server = authority.server(rsp, "-srv_secret", secret_for("issue"))
    _, transport = authority.adapter(server.url)
    ca = CmpCA(transport_config(authority, server.url), http_agent(bank_ra.url), transport)
    issued = ca.issue(authority.request(key, r), key)
    assert issued.serial == f"{certificate.serial_number:040X}"
    assert body_kinds(transport.sent) == ["ir", "certConf"], server.output()
    assert bank_ra.asked == [("/api/registrations",
                              {"purpose": "issue", "rrn": RRN, "name": "홍길동", "english_name": "HONG GILDONG"})]
    code = AGENT.authorise(authority.request(key, r), "issue").code
    assert code not in caplog.text and RRN not in caplog.text
    # revoking what could not be delivered asks the bank for that certificate's credentials
    assert http_agent(bank_ra.url).authorise_revocation(issued.serial) == AGENT.authorise_revocation(issued.serial)
    assert bank_ra.asked[-1] == ("/api/revocations", {"serial": issued.serial})


def test_a_customer_the_bank_will_not_register_is_refused_before_the_ca_is_asked(authority, bank_ra, caplog):
    caplog.set_level(logging.INFO)
    key = generate_key()
    _, transport = authority.adapter(f"http://127.0.0.1:{free_port()}/")
    ca = CmpCA(transport_config(authority, transport.url), http_agent(bank_ra.url), transport)
    stranger = CertificateRequest("김철수", "", NOT_A_SUBSCRIBER, generate_r(), key.public_key())
    with pytest.raises(CaRejected) as refused:
        ca.issue(stranger, key)
    assert refused.value.code == "registration_refused" and refused.value.status_text == "인터넷뱅킹 미가입 고객"
    assert "pki.ra_refused path=/registrations" in caplog.text and NOT_A_SUBSCRIBER not in caplog.text
    assert transport.sent == []


def test_an_unreachable_or_broken_registration_agent_is_the_cas_unreachability(authority, bank_ra):
    key = generate_key()
    _, transport = authority.adapter(f"http://127.0.0.1:{free_port()}/")
    nobody = CmpCA(transport_config(authority, transport.url),
                   http_agent(f"http://127.0.0.1:{free_port()}/api"), transport)
    with pytest.raises(CaUnreachable, match="/registrations"):
        nobody.issue(authority.request(key, generate_r()), key)
    bank_ra.broken = True
    broken = CmpCA(transport_config(authority, transport.url), http_agent(bank_ra.url), transport)
    with pytest.raises(CaUnreachable, match="no reference and code"):
        broken.issue(authority.request(key, generate_r()), key)
    assert transport.sent == []


def transport_config(authority, url: str):
    return config_for(url, [authority.issuing, authority.root], authority.kek)

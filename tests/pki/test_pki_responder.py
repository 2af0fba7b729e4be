"""The embedded CA's CMP responder over real HTTP, spoken to by the kiosk's own CMP client: ir, cr, kur,
rr, certConf, polling, and what it refuses."""

from __future__ import annotations

import pytest
from cryptography import x509
from pki_helpers import PASSWORD, RRN, write_bundle
from responder_helpers import start_responder

from kiosk.pki.ca import CertificateRequest, Predecessor
from kiosk.pki.embedded import EmbeddedCA, Profile
from kiosk.pki.errors import CaRejected, ReferenceRejected
from kiosk.pki.issuance import IssuanceService
from kiosk.pki.keys import generate_key
from kiosk.pki.profile import read_identify_data
from kiosk.pki.registry import Registry
from kiosk.pki.verify import verify_bundle
from kiosk.pki.vid import compute_vid, generate_r
from kiosk.settings import DEMO_CA_PASSPHRASE


@pytest.fixture
def embedded(installed_ca, store) -> EmbeddedCA:
    return EmbeddedCA(installed_ca, DEMO_CA_PASSPHRASE, store, Profile("http://kiosk.test/pki", "KPB", "11"))


@pytest.fixture
def responder(embedded):
    found = start_responder(embedded)
    yield found
    found.server.stop()


def request_for(key, r=None, idn=RRN) -> CertificateRequest:
    return CertificateRequest("홍길동", "HONG GILDONG", idn, r or generate_r(), key.public_key())


def test_a_journey_issue_through_the_responder_writes_a_bundle_the_bank_can_check(responder, store, tmp_path,
                                                                                 applicant, pki_settings):
    pki = pki_settings.pki
    service = IssuanceService(responder.client(), Registry(store), pki.ca_folder, pki.renewal_window)
    prepared = service.prepare(applicant, PASSWORD)
    folder = write_bundle(tmp_path / "drive", prepared.bundle)
    check = verify_bundle((folder / "signCert.der").read_bytes(), (folder / "signPri.key").read_bytes(),
                          PASSWORD, idn=RRN, chain_pem=responder.client().chain_pem())
    assert check.vid_matches
    assert "홍길동(HONG GILDONG)0011041" in prepared.subject_dn or "0011041" in prepared.subject_dn


def test_the_responder_certifies_the_requested_key_with_the_vid_of_the_encrypted_vid(responder):
    key, r = generate_key(), generate_r()
    issued = responder.client().issue(request_for(key, r), key)
    assert issued.certificate.public_key().public_numbers() == key.public_key().public_numbers()
    assert read_identify_data(issued.certificate) == ("홍길동", compute_vid(RRN, r))
    issued.certificate.verify_directly_issued_by(responder.issuing)


def test_reissue_keeps_the_expiry_and_renewal_is_signed_with_the_old_key(responder):
    client = responder.client()
    old_key = generate_key()
    old = client.issue(request_for(old_key), old_key)
    new_key = generate_key()
    reissued = client.reissue(request_for(new_key), new_key, old.serial)
    assert reissued.not_after == old.not_after
    renew_key = generate_key()
    renewed = client.renew(request_for(renew_key), renew_key, reissued.serial,
                           Predecessor(reissued.certificate, new_key))
    assert renewed.certificate.public_key().public_numbers() == renew_key.public_key().public_numbers()


def test_revocation_reaches_the_crl_and_a_revoked_certificate_cannot_renew(responder, embedded):
    client = responder.client()
    key = generate_key()
    issued = client.issue(request_for(key), key)
    client.revoke(issued.serial, "keyCompromise")
    crl = x509.load_der_x509_crl(embedded.crl_der())
    assert crl.get_revoked_certificate_by_serial_number(issued.certificate.serial_number) is not None
    client.revoke(issued.serial, "keyCompromise")  # twice is a no-op (certRevoked)
    new_key = generate_key()
    with pytest.raises(CaRejected) as refused:
        client.renew(request_for(new_key), new_key, issued.serial, Predecessor(issued.certificate, key))
    assert "certRevoked" in refused.value.fail_info


def test_a_code_for_another_person_is_refused_as_a_wrong_reference(responder):
    key = generate_key()
    with pytest.raises(ReferenceRejected) as refused:
        # the EncryptedVID names another resident number than the one the code was derived from
        client = responder.client()
        original = client.agent.authorise
        client.agent.authorise = lambda request, purpose: original(request_for(key, idn="8505152345671"), purpose)
        client.issue(request_for(key), key)
    assert "badMessageCheck" in refused.value.fail_info


def test_an_answer_not_ready_is_polled_until_it_is(embedded):
    found = start_responder(embedded, hold_seconds=1)
    try:
        key = generate_key()
        client = found.client()
        client._sleep = __import__("time").sleep
        issued = client.issue(request_for(key), key)
        assert issued.certificate.public_key().public_numbers() == key.public_key().public_numbers()
    finally:
        found.server.stop()


def test_kiosk_ca_serve_answers_on_loopback_and_stops_cleanly_on_sigterm(ca_template, tmp_path):
    """The command itself, as the unit runs it: a separate process on the CA's own ledger."""
    import os
    import shutil
    import signal
    import socket
    import subprocess
    import sys
    import time

    from cryptography.hazmat.primitives.serialization import Encoding

    from kiosk.pki.cmp import CmpCA, CmpConfig
    from kiosk.pki.cmp.registration import DemoRegistrationAgent
    from tests.conftest import free_port

    data = tmp_path / "var"
    shutil.copytree(ca_template, data / "ca")
    port = free_port()
    env = {**os.environ, "KIOSK_DATA_DIR": str(data), "KIOSK_MODE": "demo", "KIOSK_CA_LISTEN": f"127.0.0.1:{port}"}
    process = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "ca", "serve"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, process.stdout.read().decode()
                time.sleep(0.1)
        chain = x509.load_pem_x509_certificates((data / "ca" / "chain.pem").read_bytes())
        client = CmpCA(CmpConfig(f"http://127.0.0.1:{port}/", tuple(chain), chain[0], "KPB", 10, 0, 30),
                       DemoRegistrationAgent())
        key = generate_key()
        issued = client.issue(request_for(key), key)
        assert issued.certificate.public_bytes(Encoding.DER)
        assert (data / "ca" / "ledger.sqlite").is_file()  # the CA's own ledger, not the kiosk's database
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=10)[0].decode()
    assert process.returncode == 0, output
    assert "ca.listening" in output and "ca.cmp_confirmed" in output and "ca.stopped" in output

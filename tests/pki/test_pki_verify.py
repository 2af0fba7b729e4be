"""Reading a bundle back: each way it can be wrong gives its own typed error."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pki_helpers import PASSWORD, RRN

from kiosk.pki.embedded import EmbeddedCA
from kiosk.pki.errors import BundleCheckFailed, KeyFileError, KeyMismatch, WeakPassword, WrongPassword
from kiosk.pki.password import unmet_rules
from kiosk.pki.verify import verify_bundle


@pytest.fixture
def prepared(service, applicant):
    return service.prepare(applicant, PASSWORD)


def parts(prepared):
    return prepared.bundle.file("signCert.der"), prepared.bundle.file("signPri.key")


def test_a_good_bundle_passes_every_check(prepared, service):
    check = verify_bundle(*parts(prepared), PASSWORD, idn=RRN, chain_pem=service.ca_chain_pem())
    assert check.vid_matches and check.real_name == "홍길동"
    assert check.common_name == prepared.common_name


def test_another_certificates_key_is_a_mismatch(prepared, service, applicant):
    other = service.prepare(applicant, PASSWORD)
    with pytest.raises(KeyMismatch):
        verify_bundle(parts(prepared)[0], parts(other)[1], PASSWORD)


def test_another_resident_number_fails_the_vid(prepared):
    with pytest.raises(BundleCheckFailed, match="VID"):
        verify_bundle(*parts(prepared), PASSWORD, idn="9001012234567")


def test_another_cas_chain_fails(prepared, tmp_path):
    EmbeddedCA.create(tmp_path / "other", "other passphrase", demo=True)
    with pytest.raises(BundleCheckFailed, match="issuing CA"):
        verify_bundle(*parts(prepared), PASSWORD, chain_pem=(tmp_path / "other" / "chain.pem").read_bytes())


def test_wrong_password_and_broken_files(prepared):
    certificate, key = parts(prepared)
    with pytest.raises(WrongPassword):
        verify_bundle(certificate, key, "Wrong!2580x")
    with pytest.raises(KeyFileError):
        verify_bundle(certificate, key[:100], PASSWORD)
    with pytest.raises(BundleCheckFailed):
        verify_bundle(certificate[:-10], key, PASSWORD)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=14).filter(lambda p: unmet_rules(p)))
def test_prepare_refuses_every_password_that_breaks_a_rule(service, applicant, password):
    with pytest.raises(WeakPassword) as error:
        service.prepare(applicant, password)
    assert error.value.unmet == unmet_rules(password)
    assert str(error.value) == "the certificate password breaks: " + ", ".join(error.value.unmet)  # no echo

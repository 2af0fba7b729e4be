"""The issued certificate follows the yessign personal banking profile of NPKI.md."""

import re
import unicodedata

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pki_helpers import PASSWORD, RRN
from pyasn1.codec.der import decoder
from pyasn1_modules import rfc5280

from kiosk.pki import profile
from kiosk.pki.errors import InvalidApplicant
from kiosk.pki.issuance import Applicant
from kiosk.pki.keyfile import decrypt_private_key
from kiosk.pki.vid import compute_vid


@pytest.fixture
def issued(service, applicant):
    prepared = service.prepare(applicant, PASSWORD)
    certificate = x509.load_der_x509_certificate(prepared.bundle.file("signCert.der"))
    return prepared, certificate


def test_subject_order_and_string_types(issued):
    _, certificate = issued
    subject, _ = decoder.decode(certificate.subject.public_bytes(), asn1Spec=rfc5280.Name())
    found = []
    for rdn in subject["rdnSequence"]:
        (attribute,) = list(rdn)
        value, _ = decoder.decode(bytes(attribute["value"]))
        found.append((str(attribute["type"]), type(value).__name__, str(value)))
    assert found[:4] == [
        ("2.5.4.6", "PrintableString", "kr"),
        ("2.5.4.10", "UTF8String", "yessign"),
        ("2.5.4.11", "UTF8String", "personal4IB"),
        ("2.5.4.11", "UTF8String", "KPB"),
    ]
    assert found[4][:2] == ("2.5.4.3", "UTF8String")


def test_common_name_carries_english_name_and_a_cn_number(issued):
    prepared, certificate = issued
    cn = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    match = re.fullmatch(r"홍길동\(HONG GILDONG\)(0011041(\d{8})\d{9})", cn)
    assert match, cn
    assert match.group(2) == f"{prepared.not_before:%Y%m%d}"
    assert prepared.common_name == cn


def test_empty_parentheses_without_an_english_name(service):
    prepared = service.prepare(Applicant("김민준", "", RRN, "k" * 32), PASSWORD)
    assert prepared.common_name.startswith("김민준()0011041")


def test_folder_name_is_the_dn_most_specific_first(issued):
    prepared, _ = issued
    assert re.fullmatch(
        r"cn=홍길동\(HONG GILDONG\)\d{24},ou=KPB,ou=personal4IB,o=yessign,c=kr", prepared.subject_dn
    )
    assert prepared.bundle.folder == f"NPKI/yessign/USER/{prepared.subject_dn}"


def test_extensions_and_their_criticality(issued):
    _, certificate = issued
    extensions = {ext.oid: ext for ext in certificate.extensions}
    assert set(extensions) == {
        ExtensionOID.KEY_USAGE,
        ExtensionOID.CERTIFICATE_POLICIES,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.CRL_DISTRIBUTION_POINTS,
        ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
    }  # no basicConstraints, no extendedKeyUsage
    usage = extensions[ExtensionOID.KEY_USAGE]
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_encipherment and not usage.value.key_cert_sign
    policies = extensions[ExtensionOID.CERTIFICATE_POLICIES]
    assert policies.critical
    (policy,) = policies.value
    assert policy.policy_identifier.dotted_string == "1.2.410.200005.1.1.4"
    assert "http://kiosk.test/pki/cps" in policy.policy_qualifiers
    notices = [q for q in policy.policy_qualifiers if isinstance(q, x509.UserNotice)]
    assert notices and notices[0].explicit_text


def test_aki_names_the_issuers_issuer_and_serial(issued, service):
    _, certificate = issued
    issuing = x509.load_pem_x509_certificates(service.ca_chain_pem())[0]
    aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert (
        aki.key_identifier
        == issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    )
    assert aki.authority_cert_issuer == [x509.DirectoryName(issuing.issuer)]
    assert aki.authority_cert_serial_number == issuing.serial_number
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(certificate.public_key())


def test_crl_and_ocsp_point_at_the_kiosk(issued):
    _, certificate = issued
    points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name == [x509.UniformResourceIdentifier("http://kiosk.test/pki/crl")]
    access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [a.access_location.value for a in access] == ["http://kiosk.test/pki/ocsp"]


def test_identify_data_holds_the_real_name_and_the_vid(issued):
    prepared, certificate = issued
    real_name, vid = profile.read_identify_data(certificate)
    assert real_name == "홍길동"
    r = decrypt_private_key(prepared.bundle.file("signPri.key"), PASSWORD).r
    assert vid == compute_vid(RRN, r)
    (other,) = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert other.type_id.dotted_string == "1.2.410.200004.10.1.1"
    # the hash AlgorithmIdentifier carries no NULL parameters
    assert bytes.fromhex("300d0609608648016503040201" + "0500") not in other.value
    assert bytes.fromhex("300b0609608648016503040201") in other.value


def test_rsa_2048_sha256_and_one_year(issued):
    prepared, certificate = issued
    key = certificate.public_key()
    assert key.key_size == 2048 and key.public_numbers().e == 65537
    assert certificate.signature_hash_algorithm.name == "sha256"
    assert certificate.version == x509.Version.v3
    assert prepared.not_after == profile.one_year_after(prepared.not_before)
    assert prepared.not_before.tzinfo is not None


def test_serials_are_random_and_unique(service, applicant):
    serials = [service.prepare(applicant, PASSWORD).serial for _ in range(5)]
    assert len(set(serials)) == 5
    assert all(len(s) == 40 and int(s, 16).bit_length() > 100 for s in serials)


def test_one_year_after_a_leap_day():
    from datetime import UTC, datetime

    assert profile.one_year_after(datetime(2028, 2, 29, tzinfo=UTC)) == datetime(2029, 2, 28, tzinfo=UTC)


hangul = st.text(alphabet=st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3), min_size=1, max_size=12)
latin = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=20)
names = st.lists(st.one_of(hangul, latin), min_size=1, max_size=4).map(" ".join)
english = st.one_of(st.just(""), st.lists(latin, min_size=1, max_size=3).map(" ".join))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names, english)
def test_names_become_certificates_or_a_clear_refusal(service, name, english_name):
    try:
        prepared = service.prepare(Applicant(name, english_name, RRN, "h" * 32), PASSWORD)
    except InvalidApplicant as exc:
        assert len(f"{name}({english_name})".encode()) + 24 > profile.MAX_COMMON_NAME, exc
        return
    certificate = x509.load_der_x509_certificate(prepared.bundle.file("signCert.der"))
    assert profile.read_identify_data(certificate)[0] == name
    assert prepared.common_name == f"{name}({english_name}){prepared.common_name[-24:]}"
    assert prepared.subject_dn == unicodedata.normalize("NFC", prepared.subject_dn)


@pytest.mark.parametrize(
    "name", ["", " ", "홍길동/../x", "홍,길동", "홍=길동", "홍(길동)", "홍  길동", "홍길동1", "a\x00b"]
)
def test_names_that_cannot_be_a_folder_or_a_cn_are_refused(service, name):
    with pytest.raises(InvalidApplicant):
        service.prepare(Applicant(name, "", RRN, "h" * 32), PASSWORD)


def test_decomposed_hangul_is_normalised_to_nfc(service):
    decomposed = unicodedata.normalize("NFD", "홍길동")
    prepared = service.prepare(Applicant(decomposed, "", RRN, "h" * 32), PASSWORD)
    assert prepared.common_name.startswith("홍길동(")
    assert all(path == unicodedata.normalize("NFC", path) for path, _ in prepared.bundle.files)

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from hypothesis import example, given
from hypothesis import strategies as st

from kiosk.pki.cmp.encrypted_vid import decrypt_vid, encrypt_vid
from kiosk.pki.vid import R_LENGTH, compute_vid, generate_r

VECTORS = json.loads((Path(__file__).parent / "vectors" / "vid.json").read_text())["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["idn"])
def test_vid_known_answer(vector):
    assert compute_vid(vector["idn"], bytes.fromhex(vector["r"])) == bytes.fromhex(vector["vid"])


def test_r_is_20_fresh_bytes():
    values = {generate_r() for _ in range(50)}
    assert len(values) == 50
    assert all(len(r) == R_LENGTH for r in values)


@given(st.binary(min_size=20, max_size=20), st.binary(min_size=20, max_size=20))
def test_a_different_r_gives_a_different_vid(r1, r2):
    assert (compute_vid("1234561234567", r1) == compute_vid("1234561234567", r2)) == (r1 == r2)


@pytest.mark.parametrize(
    "idn", ["123456-1234567", "123456123456", "12345612345678", "１２３４５６１２３４５６７"]
)
def test_vid_refuses_anything_but_13_ascii_digits(idn):
    with pytest.raises(ValueError):
        compute_vid(idn, bytes(20))


@pytest.fixture(scope="module")
def kek():
    """A key-encryption certificate as a CA publishes one (self-signed here: only its key matters)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "KEK")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    return certificate, key


@given(st.binary(min_size=20, max_size=20))
@example(b"\n" * 20)
@example(b"\r\n" * 10)
def test_the_ca_opens_the_encrypted_vid_to_the_same_r(kek, r):
    """Byte for byte: an R holding a line feed once came out with a CR added (S/MIME text mode), so
    the CA would have computed another VID than the one in the customer's certificate."""
    certificate, key = kek
    assert decrypt_vid(encrypt_vid("9001011234568", r, certificate), certificate, key) == ("9001011234568", r)

"""signPri.key: our PBES2 round trip, and reading what other writers produced (PyPinkSign's
seedCBCWithSHA1, a hand-built legacy seedCBC, OpenSSL's PBES2/SEED). Bad input → typed errors."""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pki_helpers import LEGACY, PASSWORD, openssl
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import univ
from pyasn1_modules import rfc5958, rfc8018
from pypinksign import pypinksign

from kiosk.pki import oids
from kiosk.pki.errors import KeyFileError, PkiError, WrongPassword
from kiosk.pki.keyfile import decrypt_private_key, encrypt_private_key, private_key_info

R = bytes.fromhex("79EA7568A2D3776604E18BCD3A1B1B85B7DA0872")


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def encrypted(key):
    return encrypt_private_key(key, R, PASSWORD)


def test_pbes2_round_trip_keeps_key_and_r(key, encrypted):
    opened = decrypt_private_key(encrypted, PASSWORD)
    assert opened.r == R
    assert opened.key.private_numbers() == key.private_numbers()


def test_we_write_the_npki_pbes2_layout(encrypted):
    envelope, _ = decoder.decode(encrypted, asn1Spec=rfc5958.EncryptedPrivateKeyInfo())
    algorithm = envelope["encryptionAlgorithm"]
    assert str(algorithm["algorithm"]) == oids.PBES2
    params, _ = decoder.decode(bytes(algorithm["parameters"]), asn1Spec=rfc8018.PBES2_params())
    assert str(params["keyDerivationFunc"]["algorithm"]) == oids.PBKDF2
    kdf, _ = decoder.decode(
        bytes(params["keyDerivationFunc"]["parameters"]), asn1Spec=rfc8018.PBKDF2_params()
    )
    assert len(bytes(kdf["salt"]["specified"])) == 8
    assert int(kdf["iterationCount"]) == 2048
    assert not kdf["keyLength"].hasValue()
    raw_kdf = bytes(params["keyDerivationFunc"]["parameters"])
    assert bytes.fromhex("2a864886f70d0207") not in raw_kdf  # no PRF field: HMAC-SHA1 by default
    assert str(params["encryptionScheme"]["algorithm"]) == oids.SEED_CBC
    iv, _ = decoder.decode(bytes(params["encryptionScheme"]["parameters"]), asn1Spec=univ.OctetString())
    assert len(bytes(iv)) == 16


def test_salt_and_iv_are_fresh_each_time(key):
    assert encrypt_private_key(key, R, PASSWORD)[:60] != encrypt_private_key(key, R, PASSWORD)[:60]


def test_r_sits_in_the_pkcs8_attributes(key):
    info, _ = decoder.decode(private_key_info(key, R), asn1Spec=rfc5958.PrivateKeyInfo())
    (attribute,) = list(info["attributes"])
    assert str(attribute["attrType"]) == "1.2.410.200004.10.1.1.3"
    bits, _ = decoder.decode(bytes(attribute["attrValues"][0]), asn1Spec=univ.BitString())
    assert bits.asOctets() == R


def test_reads_seed_cbc_with_sha1_written_by_pypinksign(key):
    plain = base64.b64encode(
        key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    ).decode()
    with_r = pypinksign.inject_rand_in_plain_prikey(plain, R)
    written = base64.b64decode(pypinksign.encrypt_decrypted_prikey(with_r, PASSWORD.encode()))
    assert str(decoder.decode(written)[0][0][0]) == oids.SEED_CBC_WITH_SHA1
    opened = decrypt_private_key(written, PASSWORD)
    assert opened.key.private_numbers() == key.private_numbers()
    assert opened.r == R


def _legacy_seed_cbc(key, password: str, salt: bytes) -> bytes:
    """The old encoding, built by hand: PBKDF1-SHA1 key, fixed IV, seedCBC OID as the PBE OID."""
    derived = hashlib.sha1(password.encode() + salt).digest()
    for _ in range(2047):
        derived = hashlib.sha1(derived).digest()
    # PyPinkSign's SEED-CBC helper adds the PKCS#7 padding itself
    ciphertext = pypinksign.seed_cbc_128_encrypt(derived[:16], private_key_info(key, R), b"0123456789012345")
    params = univ.Sequence()
    params[0] = univ.OctetString(salt)
    params[1] = univ.Integer(2048)
    algorithm = univ.Sequence()
    algorithm[0] = univ.ObjectIdentifier(oids.SEED_CBC)
    algorithm[1] = params
    envelope = univ.Sequence()
    envelope[0] = algorithm
    envelope[1] = univ.OctetString(ciphertext)
    return encoder.encode(envelope)


def test_reads_the_legacy_seed_cbc_encoding(key):
    written = _legacy_seed_cbc(key, PASSWORD, b"saltsalt")
    opened = decrypt_private_key(written, PASSWORD)
    assert opened.key.private_numbers() == key.private_numbers()
    assert opened.r == R
    with pytest.raises(WrongPassword):
        decrypt_private_key(written, PASSWORD + "x")


def test_reads_a_pbes2_seed_key_written_by_openssl(key, tmp_path):
    (tmp_path / "pw").write_text(PASSWORD)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    written = openssl(
        "pkcs8",
        "-topk8",
        "-v2",
        "seed-cbc",
        "-v2prf",
        "hmacWithSHA1",
        "-iter",
        "2048",
        "-outform",
        "DER",
        "-passout",
        f"file:{tmp_path / 'pw'}",
        *LEGACY,
        input=pem,
    ).stdout
    opened = decrypt_private_key(written, PASSWORD)
    assert opened.key.private_numbers() == key.private_numbers()
    assert opened.r is None  # OpenSSL writes no R


def test_openssl_decrypts_what_we_write(key, encrypted, tmp_path):
    (tmp_path / "pw").write_text(PASSWORD)
    (tmp_path / "signPri.key").write_bytes(encrypted)
    out = openssl(
        "pkcs8",
        "-inform",
        "DER",
        "-in",
        str(tmp_path / "signPri.key"),
        "-passin",
        f"file:{tmp_path / 'pw'}",
        "-outform",
        "DER",
        *LEGACY,
    ).stdout
    loaded = serialization.load_der_private_key(out, password=None)
    assert loaded.private_numbers() == key.private_numbers()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=0, max_size=40).filter(lambda p: p != PASSWORD))
def test_a_wrong_password_is_wrong_password(encrypted, password):
    with pytest.raises(WrongPassword):
        decrypt_private_key(encrypted, password)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0))
def test_a_truncated_file_is_a_typed_error(encrypted, cut):
    with pytest.raises(PkiError):
        decrypt_private_key(encrypted[: cut % len(encrypted)], PASSWORD)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_any_tampered_byte_gives_a_typed_error_or_a_different_key(key, encrypted, position, mask):
    tampered = bytearray(encrypted)
    tampered[position % len(tampered)] ^= mask
    try:
        opened = decrypt_private_key(bytes(tampered), PASSWORD)
    except PkiError:
        return
    assert (opened.key.private_numbers(), opened.r) != (key.private_numbers(), R)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=15), st.integers(min_value=1, max_value=255))
@example(5, 0x80)
def test_a_tampered_iv_reads_as_wrong_password_or_as_the_very_same_key(key, encrypted, index, mask):
    """A changed IV garbles only the first block of the decrypted key. That reads as a wrong password, with
    one exception found by this test: the top bit of byte 5, which turns the version's length (01) into the
    long form "81 00" that the decoder still reads as the same version: the same key and R come out, never
    another key."""
    envelope, _ = decoder.decode(encrypted, asn1Spec=rfc5958.EncryptedPrivateKeyInfo())
    params, _ = decoder.decode(
        bytes(envelope["encryptionAlgorithm"]["parameters"]), asn1Spec=rfc8018.PBES2_params()
    )
    iv = bytearray(decoder.decode(bytes(params["encryptionScheme"]["parameters"]))[0].asOctets())
    iv[index] ^= mask
    params["encryptionScheme"]["parameters"] = encoder.encode(univ.OctetString(bytes(iv)))
    envelope["encryptionAlgorithm"]["parameters"] = encoder.encode(params)
    try:
        opened = decrypt_private_key(encoder.encode(envelope), PASSWORD)
    except WrongPassword:
        return
    assert (index, mask) == (5, 0x80)
    assert (opened.key.private_numbers(), opened.r) == (key.private_numbers(), R)


@pytest.mark.parametrize("data", [b"", b"not der at all", b"\x30\x03\x02\x01\x00", bytes(64)])
def test_garbage_is_a_key_file_error(data):
    with pytest.raises(KeyFileError):
        decrypt_private_key(data, PASSWORD)


def test_an_unknown_algorithm_is_a_key_file_error(encrypted):
    envelope, _ = decoder.decode(encrypted, asn1Spec=rfc5958.EncryptedPrivateKeyInfo())
    envelope["encryptionAlgorithm"]["algorithm"] = univ.ObjectIdentifier("1.2.840.113549.1.5.3")
    with pytest.raises(KeyFileError, match="unknown encryption algorithm"):
        decrypt_private_key(encoder.encode(envelope), PASSWORD)


def test_a_hostile_iteration_count_is_refused(key):
    written = bytearray(_legacy_seed_cbc(key, PASSWORD, b"saltsalt"))
    envelope, _ = decoder.decode(bytes(written))
    envelope[0][1][1] = univ.Integer(10**9)
    with pytest.raises(KeyFileError, match="iterations"):
        decrypt_private_key(encoder.encode(envelope), PASSWORD)

"""The signPri.key codec: DER EncryptedPrivateKeyInfo, SEED-CBC, with R as a PKCS#8 attribute.

We write PBES2 (PBKDF2-HMAC-SHA1, 8-byte salt, 2048 iterations, SEED-CBC with a random IV), the layout
`openssl pkcs8 -v2 seed-cbc` writes. We read the three encodings in circulation (PBES2, seedCBCWithSHA1,
legacy seedCBC with a fixed IV), because a customer may bring a key from any bank's site.

`cryptography` drops PKCS#8 attributes and cannot load SEED-encrypted keys, so the ASN.1 is built and
parsed with pyasn1; `cryptography` only does the primitives (SEED, PBKDF2, RSA).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import SEED
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from pyasn1.codec.der import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pyasn1_modules import rfc5280, rfc5652, rfc5958, rfc8018

from kiosk.pki import oids
from kiosk.pki.errors import KeyFileError, WrongPassword

ITERATIONS = 2048
SALT_LENGTH = 8
KEY_LENGTH = 16
LEGACY_IV = b"0123456789012345"
MAX_ITERATIONS = 1_000_000  # a hostile file must not make us spin for minutes
# what pyasn1 raises on malformed input (it overflows on absurd lengths instead of a PyAsn1Error)
_DECODE_ERRORS = (PyAsn1Error, ValueError, TypeError, OverflowError)


@dataclass(frozen=True)
class NpkiPrivateKey:
    """A decrypted signPri.key: the RSA key and R (None when the file carries no R, as some old ones)."""

    key: rsa.RSAPrivateKey
    r: bytes | None


@dataclass(frozen=True)
class _Scheme:
    """How one encoding derives SEED's key and IV from the password."""

    key: bytes
    iv: bytes


# --- writing -------------------------------------------------------------------------------------------


def encrypt_private_key(key: rsa.RSAPrivateKey, r: bytes | None, password: str) -> bytes:
    """signPri.key bytes: PBES2/PBKDF2-HMAC-SHA1/SEED-CBC of the PKCS#8 key with R as an attribute
    (`r` is None only when re-protecting an old key file that carried none)."""
    salt = secrets.token_bytes(SALT_LENGTH)
    iv = secrets.token_bytes(16)
    seed_key = _pbkdf2_sha1(password, salt, ITERATIONS)
    ciphertext = _seed_cbc_encrypt(seed_key, iv, private_key_info(key, r))
    envelope = rfc5958.EncryptedPrivateKeyInfo()
    envelope["encryptionAlgorithm"] = _pbes2_algorithm(salt, ITERATIONS, iv)
    envelope["encryptedData"] = ciphertext
    return encoder.encode(envelope)


def private_key_info(key: rsa.RSAPrivateKey, r: bytes | None) -> bytes:
    """DER PrivateKeyInfo (rsaEncryption) with R as an attribute:
    `[0] { SEQUENCE{ 1.2.410.200004.10.1.1.3, SET{ BIT STRING R } } }`."""
    plain = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    if r is None:
        return plain
    info, _ = decoder.decode(plain, asn1Spec=rfc5958.PrivateKeyInfo())
    attribute = rfc5652.Attribute()
    attribute["attrType"] = oids.oid(oids.RANDOM_NUM)
    attribute["attrValues"].append(univ.Any(encoder.encode(univ.BitString.fromOctetString(r))))
    info["attributes"].append(attribute)
    return encoder.encode(info)


def _pbes2_algorithm(salt: bytes, iterations: int, iv: bytes) -> rfc5280.AlgorithmIdentifier:
    kdf_params = rfc8018.PBKDF2_params()
    kdf_params["salt"]["specified"] = salt
    kdf_params["iterationCount"] = iterations  # no keyLength, no prf: HMAC-SHA1 by default, as OpenSSL
    kdf = rfc5280.AlgorithmIdentifier()
    kdf["algorithm"] = oids.oid(oids.PBKDF2)
    kdf["parameters"] = encoder.encode(kdf_params)
    cipher = rfc5280.AlgorithmIdentifier()
    cipher["algorithm"] = oids.oid(oids.SEED_CBC)
    cipher["parameters"] = encoder.encode(univ.OctetString(iv))
    params = rfc8018.PBES2_params()
    params["keyDerivationFunc"] = kdf
    params["encryptionScheme"] = cipher
    algorithm = rfc5280.AlgorithmIdentifier()
    algorithm["algorithm"] = oids.oid(oids.PBES2)
    algorithm["parameters"] = encoder.encode(params)
    return algorithm


# --- reading -------------------------------------------------------------------------------------------


def decrypt_private_key(data: bytes, password: str) -> NpkiPrivateKey:
    """Open a signPri.key of any of the three encodings.

    Raises `KeyFileError` when the file is not an NPKI key, `WrongPassword` when the password does not
    open it. SEED-CBC has no integrity check, so an altered ciphertext also reads as `WrongPassword`.
    """
    algorithm, ciphertext = _parse_envelope(data)
    scheme = _scheme_for(algorithm, password)
    _check_blocks(ciphertext)
    plain = _seed_cbc_decrypt(scheme.key, scheme.iv, ciphertext)
    return _parse_private_key_info(plain)


def check_key_file(data: bytes) -> None:
    """Raises `KeyFileError` when `data` cannot be an NPKI key whatever the password: its envelope,
    algorithm or parameters are unreadable. What this lets through may still fail to open, and then only a
    password explains it (the kiosk counts such a try: kiosk.journey.stick)."""
    algorithm, ciphertext = _parse_envelope(data)
    _scheme_for(algorithm, None)
    _check_blocks(ciphertext)


def _check_blocks(ciphertext: bytes) -> None:
    if not ciphertext or len(ciphertext) % 16:
        raise KeyFileError("the encrypted key is not a whole number of SEED blocks (truncated?)")


def _parse_envelope(data: bytes) -> tuple[rfc5280.AlgorithmIdentifier, bytes]:
    try:
        envelope, rest = decoder.decode(data, asn1Spec=rfc5958.EncryptedPrivateKeyInfo())
    except _DECODE_ERRORS as exc:
        raise KeyFileError("signPri.key is not a DER EncryptedPrivateKeyInfo") from exc
    if rest:
        raise KeyFileError("signPri.key has trailing bytes")
    return envelope["encryptionAlgorithm"], bytes(envelope["encryptedData"])


def _scheme_for(algorithm: rfc5280.AlgorithmIdentifier, password: str | None) -> _Scheme | None:
    """The key and IV `password` derives; with None, the parameters are only checked (no derivation)."""
    dotted = str(algorithm["algorithm"])
    parameters = _raw_parameters(algorithm)
    if dotted == oids.PBES2:
        return _pbes2_scheme(parameters, password)
    if dotted in (oids.SEED_CBC_WITH_SHA1, oids.SEED_CBC):
        salt, iterations = _pbes1_parameters(parameters)
        if password is None:
            return None
        derived = _pbkdf1_sha1(password.encode("utf-8"), salt, iterations)
        if dotted == oids.SEED_CBC_WITH_SHA1:
            return _Scheme(derived[:16], hashlib.sha1(derived[16:20]).digest()[:16])
        return _Scheme(derived[:16], LEGACY_IV)
    raise KeyFileError(f"signPri.key uses an unknown encryption algorithm {dotted}")


def _raw_parameters(algorithm: rfc5280.AlgorithmIdentifier) -> bytes:
    if not algorithm["parameters"].hasValue():
        raise KeyFileError("signPri.key's encryption algorithm has no parameters")
    return bytes(algorithm["parameters"])


def _decode(raw: bytes, spec, what: str):
    try:
        value, rest = decoder.decode(raw, asn1Spec=spec)
    except _DECODE_ERRORS as exc:
        raise KeyFileError(f"signPri.key has malformed {what}") from exc
    if rest:
        raise KeyFileError(f"signPri.key has trailing bytes after {what}")
    return value


def _pbes2_scheme(parameters: bytes, password: str | None) -> _Scheme | None:
    params = _decode(parameters, rfc8018.PBES2_params(), "PBES2 parameters")
    kdf, cipher = params["keyDerivationFunc"], params["encryptionScheme"]
    if str(kdf["algorithm"]) != oids.PBKDF2:
        raise KeyFileError(f"PBES2 with an unsupported key derivation {kdf['algorithm']}")
    if str(cipher["algorithm"]) != oids.SEED_CBC:
        raise KeyFileError(f"PBES2 with an unsupported cipher {cipher['algorithm']}")
    kdf_params = _decode(_raw_parameters(kdf), rfc8018.PBKDF2_params(), "PBKDF2 parameters")
    if kdf_params["salt"].getName() != "specified":
        raise KeyFileError("PBKDF2 salt from another source is not supported")
    if str(kdf_params["prf"]["algorithm"]) != oids.HMAC_SHA1:
        raise KeyFileError(f"PBKDF2 with an unsupported PRF {kdf_params['prf']['algorithm']}")
    if kdf_params["keyLength"].hasValue() and int(kdf_params["keyLength"]) != KEY_LENGTH:
        raise KeyFileError("PBKDF2 key length is not SEED's 16 bytes")
    iterations = _bounded_iterations(int(kdf_params["iterationCount"]))
    iv = bytes(_decode(_raw_parameters(cipher), univ.OctetString(), "SEED IV"))
    if len(iv) != 16:
        raise KeyFileError("the SEED-CBC IV is not 16 bytes")
    salt = bytes(kdf_params["salt"]["specified"])
    if password is None:
        return None
    return _Scheme(_pbkdf2_sha1(password, salt, iterations), iv)


def _pbes1_parameters(parameters: bytes) -> tuple[bytes, int]:
    params = _decode(parameters, rfc8018.PBEParameter(), "PBES1 parameters")
    return bytes(params["salt"]), _bounded_iterations(int(params["iterationCount"]))


def _bounded_iterations(iterations: int) -> int:
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise KeyFileError(f"signPri.key asks for {iterations} iterations")
    return iterations


def _parse_private_key_info(plain: bytes) -> NpkiPrivateKey:
    """Decrypted bytes → key and R. Anything unreadable here means the password was wrong."""
    try:
        info, rest = decoder.decode(plain, asn1Spec=rfc5958.PrivateKeyInfo())
    except _DECODE_ERRORS:
        raise WrongPassword("the password does not open this certificate's key") from None
    # NPKI keys are PKCS#8 v1 RSA; anything else decrypted from a wrong password is garbage
    if (
        rest
        or int(info["version"]) != 0
        or str(info["privateKeyAlgorithm"]["algorithm"]) != oids.RSA_ENCRYPTION
    ):
        raise WrongPassword("the password does not open this certificate's key")
    r = _random_num(info)
    stripped = rfc5958.PrivateKeyInfo()
    for name in ("version", "privateKeyAlgorithm", "privateKey"):
        stripped[name] = info[name]
    try:
        key = serialization.load_der_private_key(encoder.encode(stripped), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError("the decrypted key is not a valid RSA key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFileError("the key is not an RSA key")
    return NpkiPrivateKey(key=key, r=r)


def _random_num(info: rfc5958.PrivateKeyInfo) -> bytes | None:
    if not info["attributes"].hasValue():
        return None
    for attribute in info["attributes"]:
        if str(attribute["attrType"]) != oids.RANDOM_NUM:
            continue
        for value in attribute["attrValues"]:
            bits = _decode(bytes(value), univ.BitString(), "R attribute")
            return bits.asOctets()
    return None


# --- primitives ----------------------------------------------------------------------------------------


def _pbkdf2_sha1(password: str, salt: bytes, iterations: int) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA1(), length=KEY_LENGTH, salt=salt, iterations=iterations)
    return kdf.derive(password.encode("utf-8"))


def _pbkdf1_sha1(password: bytes, salt: bytes, iterations: int) -> bytes:
    """PKCS#5 PBKDF1 with SHA-1 (20 bytes): what seedCBCWithSHA1 and the legacy encoding use."""
    derived = hashlib.sha1(password + salt).digest()
    for _ in range(iterations - 1):
        derived = hashlib.sha1(derived).digest()
    return derived


def _seed_cbc_encrypt(key: bytes, iv: bytes, plain: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(SEED(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def _seed_cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    decryptor = Cipher(SEED(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise WrongPassword("the password does not open this certificate's key") from None

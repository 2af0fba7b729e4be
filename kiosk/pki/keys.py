"""The subscriber's key pair: RSA-2048, e=65537, generated on the kiosk, kept in memory only."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa

KEY_SIZE = 2048
PUBLIC_EXPONENT = 65537


def generate_key() -> rsa.RSAPrivateKey:
    """A fresh key from OpenSSL's CSPRNG; it leaves the pipeline only encrypted with the password."""
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_SIZE)


def same_key(private_key: rsa.RSAPrivateKey, public_key) -> bool:
    """Whether the certificate's public key is this private key's."""
    return (
        isinstance(public_key, rsa.RSAPublicKey)
        and private_key.public_key().public_numbers() == public_key.public_numbers()
    )

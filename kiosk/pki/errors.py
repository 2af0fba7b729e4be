"""The PKI's exceptions: small and specific, so the journey can tell a person something useful.

Messages never contain a password, a key or a resident number.
"""

from __future__ import annotations


class PkiError(Exception):
    """Base of every error raised by `kiosk.pki`."""


class WrongPassword(PkiError):
    """The password does not open this signPri.key (or its ciphertext was altered: SEED-CBC cannot tell)."""


class KeyFileError(PkiError):
    """The signPri.key is not a readable NPKI private key (truncated, not DER, unknown algorithm)."""


class KeyMismatch(PkiError):
    """The private key does not belong to the certificate beside it."""


class WeakPassword(PkiError):
    """The certificate password breaks the NPKI rules; `unmet` lists the rule codes."""

    def __init__(self, unmet: list[str]):
        super().__init__("the certificate password breaks: " + ", ".join(unmet))
        self.unmet = list(unmet)


class InvalidApplicant(PkiError):
    """A name or resident number cannot go into a certificate (characters, length, date)."""


class CaError(PkiError):
    """The certificate authority cannot do what was asked (not initialised, wrong passphrase, refused)."""


class CaNotInitialised(CaError):
    """The embedded CA has not been created: run `kiosk init`."""


class CaPassphraseWrong(CaError):
    """KIOSK_CA_PASSPHRASE does not open the embedded CA's keys."""


class UnknownCertificate(PkiError):
    """No certificate with this serial in the registry."""


class InvalidTransition(PkiError):
    """The certificate's status does not allow this (e.g. delivering a revoked certificate)."""


class NotRenewable(PkiError):
    """The certificate is outside its renewal window (30 days before expiry until expiry)."""


class BundleCheckFailed(PkiError):
    """A bundle read back does not open or does not match what was issued (selftest, write verification)."""

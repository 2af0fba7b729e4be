"""The PKI's exceptions: small and specific, so the journey can tell a person something useful.

Messages never contain a password, a key or a resident number.
"""

from __future__ import annotations


class PkiError(Exception):
    """Base of every error raised by `kiosk.pki`.

    `code` names the message the customer sees (templates/customer/_drive_error.html): the journey
    shows it without knowing which CA adapter raised the error."""

    code = "issuance_failed"


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


class CaUnreachable(CaError):
    """The CA did not answer (refused, timed out, HTTP error, not a CMP reply): the customer may try later."""

    code = "ca_unreachable"


class CaProtocolError(CaError):
    """The CA's reply breaks CMP (malformed, wrong transaction or nonce, bad protection, wrong key)."""


class CaRejected(CaError):
    """The CA refused the request; `status_text` and `fail_info` are the CA's own words, for a technician."""

    code = "ca_rejected"

    def __init__(self, message: str, status_text: str = "", fail_info: tuple[str, ...] = ()):
        super().__init__(message)
        self.status_text = status_text
        self.fail_info = tuple(fail_info)


class ReferenceRejected(CaRejected):
    """The CA did not accept the reference number and authorisation code (or, for a renewal, the old key's
    signature): the customer needs a new code from the bank."""

    code = "reference_rejected"


class RegistrationRefused(CaRejected):
    """The bank's registration agent would not register the customer: nothing was sent to the CA."""

    code = "registration_refused"


class UnknownCertificate(PkiError):
    """No certificate with this serial in the registry."""


class InvalidTransition(PkiError):
    """The certificate's status does not allow this (e.g. delivering a revoked certificate)."""


class AlreadyReplaced(InvalidTransition):
    """Another session replaced this certificate first (or is replacing it): one replacement per serial."""

    code = "already_replaced"


class NotRenewable(PkiError):
    """The certificate is outside its renewal window (30 days before expiry until expiry)."""


class BundleCheckFailed(PkiError):
    """A bundle read back does not open or does not match what was issued (selftest, write verification)."""

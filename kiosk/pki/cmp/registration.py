"""The RegistrationAgent port: where the CMP adapter gets a reference number and an authorisation code.

In real yessign issuance the bank, as registration agent, registers the customer with the CA and hands
out a reference number (참조번호) and an authorisation code (인가코드); the CMP messages are MAC-protected
with them (RFC 4210 5.1.3.1). The production adapter is the bank's RA system (its contract is in
docs/cmp.md, `HttpRegistrationAgent`); the demo adapter derives both deterministically, so a test CA
can be told the secret.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Literal, Protocol

from kiosk import logs
from kiosk.jsonhttp import JsonService
from kiosk.pki.ca import CertificateRequest
from kiosk.pki.errors import CaUnreachable, RegistrationRefused

Purpose = Literal["issue", "reissue"]
DEMO_KEY = b"cert-kiosk demo registration agent: not for production"
REFERENCE_DIGITS = 8  # *inferred*: yessign reference numbers seen in the wild are 8 digits
CODE_DIGITS = 16  # *inferred*: the length of an authorisation code is not confirmed by a spec


@dataclass(frozen=True)
class Authorisation:
    """One reference number (sent in clear as senderKID) and its authorisation code (the MAC secret)."""

    reference: str
    code: str = field(repr=False)

    @property
    def secret(self) -> bytes:
        """The PBM shared secret: the code's ASCII bytes (*inferred*, see docs/cmp.md)."""
        return self.code.encode("ascii")


class RegistrationAgent(Protocol):
    def authorise(self, request: CertificateRequest, purpose: Purpose) -> Authorisation:
        """Register `request`'s customer for a new certificate or a reissue; raises CaError when refused."""

    def authorise_revocation(self, serial: str) -> Authorisation:
        """Credentials to revoke the certificate `serial` (the kiosk revokes what it could not deliver)."""


class DemoRegistrationAgent:
    """Deterministic codes: HMAC-SHA256(key, purpose:resident number), so a demo CA can be configured."""

    def __init__(self, key: bytes = DEMO_KEY):
        self._key = key

    def __repr__(self) -> str:
        return "DemoRegistrationAgent()"

    def authorise(self, request: CertificateRequest, purpose: Purpose) -> Authorisation:
        return self._derive(f"{purpose}:{request.idn}")

    def authorise_revocation(self, serial: str) -> Authorisation:
        return self._derive(f"revoke:{serial}")

    def _derive(self, label: str) -> Authorisation:
        digest = hmac.new(self._key, label.encode(), hashlib.sha256).digest()
        reference = int.from_bytes(digest[:8], "big") % 10**REFERENCE_DIGITS
        code = int.from_bytes(digest[8:24], "big") % 10**CODE_DIGITS
        return Authorisation(f"{reference:0{REFERENCE_DIGITS}d}", f"{code:0{CODE_DIGITS}d}")


class HttpRegistrationAgent:
    """The bank's registration system as an HTTP JSON service (contract: docs/cmp.md).

    `POST /registrations {purpose, rrn, name, english_name}` and `POST /revocations {serial}` answer
    `{reference, code}`, or `{refused: true, reason}` when the bank will not register the customer. The
    resident number goes to the bank's own system, as it does to the customer directory; the code is
    never logged."""

    def __init__(self, service: JsonService):
        self.service = service

    def __repr__(self) -> str:
        return f"HttpRegistrationAgent({self.service.base_url!r})"

    def authorise(self, request: CertificateRequest, purpose: Purpose) -> Authorisation:
        return self._authorisation("/registrations", {
            "purpose": purpose, "rrn": request.idn, "name": request.real_name,
            "english_name": request.english_name,
        })

    def authorise_revocation(self, serial: str) -> Authorisation:
        return self._authorisation("/revocations", {"serial": serial})

    def _authorisation(self, path: str, payload: dict) -> Authorisation:
        answer = self.service.post(path, payload)
        if answer.get("refused"):
            reason = str(answer.get("reason") or "no reason given")[:200]
            logs.warning("pki.ra_refused", path=path, reason=reason)
            raise RegistrationRefused(f"the bank's registration agent refused: {reason}", status_text=reason)
        reference, code = answer.get("reference"), answer.get("code")
        if not _printable(reference) or not _printable(code):
            raise CaUnreachable(f"{path}: the registration agent's answer has no reference and code")
        return Authorisation(reference, code)


def _printable(value) -> bool:
    """A reference goes into senderKID and a code into the MAC as ASCII: anything else is a broken answer."""
    return isinstance(value, str) and 0 < len(value) <= 64 and value.isascii() and value.isprintable()

"""The CMP adapter: the CertificateAuthority port spoken to a real CA over HTTP (RFC 4210/4211/6712).

issue → ir, reissue → cr (with the oldCertID control), both MAC-protected with the reference number and
authorisation code from the RegistrationAgent; renew → kur signed with the old key; revoke → rr. Every
enrolment is confirmed (certConf → pkiConf) only after the kiosk checked the certificate (our key, signed
by the configured CA), and a 'waiting' answer is polled (pollReq/pollRep) up to the total timeout.
The new key's POP and the EncryptedVID travel in the CertReqMsg. docs/cmp.md has the flows and errors.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from kiosk import logs
from kiosk.jsonhttp import JsonService
from kiosk.pki import profile
from kiosk.pki.ca import CertificateRequest, IssuedCertificate, Predecessor, check_reason
from kiosk.pki.cmp import messages as m
from kiosk.pki.cmp.encrypted_vid import ENCRYPTED_VID, encrypt_vid
from kiosk.pki.cmp.registration import DemoRegistrationAgent, HttpRegistrationAgent, RegistrationAgent
from kiosk.pki.config import CmpSettings
from kiosk.pki.errors import CaError, CaProtocolError, CaRejected, CaUnreachable, ReferenceRejected

CONTENT_TYPE = "application/pkixcmp"  # RFC 6712 3.4
RETRYABLE_HTTP = (502, 503, 504)
# failInfo bits that say the CA could not authenticate the request (the code, or the old key for kur)
AUTHENTICATION_FAILURES = frozenset(
    {"badMessageCheck", "wrongIntegrity", "notAuthorized", "signerNotTrusted"}
)
REASON_CODES = {  # RFC 5280 5.3.1 CRLReason numbers of the reasons the kiosk uses
    "unspecified": 0,
    "keyCompromise": 1,
    "affiliationChanged": 3,
    "superseded": 4,
    "cessationOfOperation": 5,
    "privilegeWithdrawn": 9,
}
REPLY_TO = {"ir": "ip", "cr": "cp", "kur": "kup", "rr": "rp", "certConf": "pkiconf"}


@dataclass(frozen=True)
class CmpConfig:
    """Where the CA is and what the kiosk trusts of it (KIOSK_CMP_* settings)."""

    url: str
    ca_certificates: tuple[x509.Certificate, ...]  # the issuing CA first, then its root
    kek_certificate: x509.Certificate
    bank_code: str
    timeout: float = 30
    retries: int = 2
    total_timeout: float = 300
    crl_url: str = ""

    @property
    def issuing(self) -> x509.Certificate:
        return self.ca_certificates[0]

    @classmethod
    def from_settings(cls, settings: CmpSettings) -> "CmpConfig":
        if missing := settings.missing():  # settings built in code skip their validation
            raise CaError(missing)
        return cls(
            url=settings.url,
            ca_certificates=tuple(_load_pem_certificates(settings.ca_certs, "KIOSK_CMP_CA_CERTS")),
            kek_certificate=_load_pem_certificates(settings.kek_cert, "KIOSK_CMP_KEK_CERT")[0],
            bank_code=settings.bank_code,
            timeout=settings.timeout_seconds,
            retries=settings.retries,
            total_timeout=settings.total_timeout_seconds,
            crl_url=settings.crl_url,
        )


def _load_pem_certificates(path: str, setting: str) -> list[x509.Certificate]:
    try:
        found = x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise CaError(f"{setting}={path!r} is not a readable PEM certificate file: {exc}") from None
    if not found:
        raise CaError(f"{setting}={path!r} holds no certificate")
    return found


class HttpTransport:
    """POST one DER message, return the DER reply (RFC 6712). Retries only what cannot have reached the
    CA (connection refused or reset, DNS) and 502/503/504; a timeout after sending is not retried."""

    def __init__(self, url: str, timeout: float, retries: int, sleep: Callable[[float], None] = time.sleep):
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self._sleep = sleep
        # no proxy from the environment: the CA's address is configured, not discovered
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def send(self, message: bytes) -> bytes:
        error = ""
        for attempt in range(1, self.retries + 2):
            try:
                return self._post(message)
            except _Retryable as exc:
                error = str(exc)
                logs.warning("pki.cmp_retry", url=self.url, attempt=attempt, error=error)
                if attempt <= self.retries:
                    self._sleep(min(0.5 * 2 ** (attempt - 1), 5))
        raise CaUnreachable(f"the CA at {self.url} did not answer ({self.retries + 1} attempts): {error}")

    def _post(self, message: bytes) -> bytes:
        request = urllib.request.Request(
            self.url,
            data=message,
            method="POST",
            headers={"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE, "Connection": "close"},
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return _cmp_body(response.headers.get_content_type(), response.read(), response.status)
        except urllib.error.HTTPError as exc:
            if exc.headers.get_content_type() == CONTENT_TYPE:  # a CMP error message with an HTTP error
                return exc.read()
            if exc.code in RETRYABLE_HTTP:
                raise _Retryable(f"HTTP {exc.code}") from None
            raise CaUnreachable(f"the CA at {self.url} answered HTTP {exc.code}") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                raise CaUnreachable(f"the CA at {self.url} did not answer within {self.timeout} s") from None
            raise _Retryable(str(exc.reason)) from None
        except (TimeoutError, socket.timeout):
            raise CaUnreachable(f"the CA at {self.url} did not answer within {self.timeout} s") from None
        except ConnectionError as exc:
            raise _Retryable(str(exc)) from None


class _Retryable(Exception):
    """A failure that cannot have reached the CA's CMP logic (internal to HttpTransport)."""


def _cmp_body(content_type: str, body: bytes, status: int) -> bytes:
    if content_type != CONTENT_TYPE:
        raise CaUnreachable(f"the CA answered HTTP {status} with {content_type}, not a CMP message")
    return body


def registration_agent(settings: CmpSettings) -> RegistrationAgent:
    if settings.ra == "http":
        service = JsonService(settings.ra_url, CaUnreachable, timeout=settings.timeout_seconds,
                              retries=settings.retries)
        return HttpRegistrationAgent(service)
    if settings.ra == "demo":
        return DemoRegistrationAgent()
    raise CaError(f"KIOSK_CMP_RA={settings.ra!r}: 'demo' or 'http'")


def fetch_crl(config: CmpConfig, timeout: float) -> bytes:
    """The DER CRL at KIOSK_CMP_CRL_URL; raises CaError when none is set, CaUnreachable, CaProtocolError."""
    if not config.crl_url:
        raise CaError("KIOSK_CA=cmp: the CA publishes its own CRL (set KIOSK_CMP_CRL_URL to relay it)")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(config.crl_url, timeout=timeout) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise CaUnreachable(f"the CA's CRL at {config.crl_url} is unavailable: {exc}") from None
    try:
        x509.load_der_x509_crl(data)
    except ValueError:
        raise CaProtocolError(f"{config.crl_url} did not return a DER CRL") from None
    return data


def probe(config: CmpConfig, timeout: float) -> str:
    """One unprotected, empty genm to the CA, no retry (`kiosk doctor`); returns the kind of its answer
    ("genp" or "error": either shows a CMP server at the URL). Raises CaUnreachable or CaProtocolError."""
    transport = HttpTransport(config.url, timeout, retries=0)
    return m.read_reply(transport.send(m.probe(config.issuing.subject))).kind


# --- the adapter ---------------------------------------------------------------------------------------


class CmpCA:
    def __init__(
        self,
        config: CmpConfig,
        agent: RegistrationAgent,
        transport: HttpTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.config = config
        self.agent = agent
        self.transport = transport or HttpTransport(config.url, config.timeout, config.retries, sleep)
        self._sleep = sleep
        self._monotonic = monotonic

    def __repr__(self) -> str:
        return f"CmpCA({self.config.url!r})"

    @classmethod
    def from_settings(cls, settings: CmpSettings) -> "CmpCA":
        return cls(CmpConfig.from_settings(settings), registration_agent(settings))

    # --- the port ----------------------------------------------------------------------------------

    def issue(self, request: CertificateRequest, key) -> IssuedCertificate:
        authorisation = self.agent.authorise(request, "issue")
        protection = m.MacProtection(authorisation.reference, authorisation.secret)
        return self._enrol("ir", request, key, protection, self._requested_subject(request), None)

    def reissue(self, request: CertificateRequest, key, replaces: str) -> IssuedCertificate:
        authorisation = self.agent.authorise(request, "reissue")
        protection = m.MacProtection(authorisation.reference, authorisation.secret)
        old = (self.config.issuing.subject, int(replaces, 16))
        return self._enrol("cr", request, key, protection, self._requested_subject(request), old)

    def renew(
        self, request: CertificateRequest, key, renews: str, predecessor: Predecessor | None = None
    ) -> IssuedCertificate:
        """kur, signed with the old key: the caller must hand over the old certificate and key."""
        if predecessor is None:
            raise CaError("a CMP renewal is signed with the old key: read it from the customer's drive first")
        old_certificate = predecessor.certificate
        if f"{old_certificate.serial_number:040X}" != renews:
            raise CaError(f"the old certificate given is not {renews}")
        protection = m.SignatureProtection(old_certificate, predecessor.key)
        old = (old_certificate.issuer, old_certificate.serial_number)
        return self._enrol("kur", request, key, protection, old_certificate.subject, old)

    def revoke(self, serial: str, reason: str) -> None:
        """rr for `serial`; a certificate the CA reports as already revoked counts as revoked."""
        check_reason(reason)
        authorisation = self.agent.authorise_revocation(serial)
        transaction = self._transaction(m.MacProtection(authorisation.reference, authorisation.secret))
        body = m.revocation_request(self.config.issuing.subject, int(serial, 16), REASON_CODES[reason])
        reply = self._exchange(transaction, "rr", body)
        status = m.status_of(reply.body["status"][0])
        if status.status in (m.ACCEPTED, m.GRANTED_WITH_MODS) or "certRevoked" in status.fail_info:
            return
        raise self._refused("rr", status, transaction, authenticated=True)

    def unrevoked_serials(self) -> list[str]:
        return []  # the real CA holds the ledger (kiosk.pki.ca.CertificateAuthority.unrevoked_serials)

    def crl_der(self) -> bytes:
        """The CA's CRL from KIOSK_CMP_CRL_URL (the CA publishes it; the kiosk only relays it)."""
        return fetch_crl(self.config, self.config.timeout)

    def chain_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.config.ca_certificates)

    def issuer_name(self) -> str:
        names = self.config.issuing.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else self.config.issuing.subject.rfc4514_string()

    # --- enrolment ---------------------------------------------------------------------------------

    def _requested_subject(self, request: CertificateRequest) -> x509.Name:
        """The subject asked for; the CA assigns the CN's number (*inferred*: it keeps C, O, OUs)."""
        cn = f"{request.real_name}({request.english_name})"
        return profile.subject_name(cn, self.config.bank_code)

    def _transaction(self, protection, sender: x509.Name | None = None) -> m.Transaction:
        # a MAC-protected sender is unknown to the CA by name: NULL-DN, identified by senderKID (RFC 4210)
        return m.Transaction(sender or x509.Name([]), self.config.issuing.subject, protection)

    def _enrol(self, kind, request, key, protection, subject, old) -> IssuedCertificate:
        sender = protection.certificate.subject if isinstance(protection, m.SignatureProtection) else None
        transaction = self._transaction(protection, sender)
        vid = encrypt_vid(request.idn, request.r, self.config.kek_certificate)
        body = m.cert_request(request.public_key, key, subject, [(ENCRYPTED_VID, vid)], old)
        reply = self._exchange(transaction, kind, body)
        response = self._await_certificate(transaction, kind, reply)
        certificate = m.certificate_of(response)
        if certificate is None:
            raise CaProtocolError(f"the CA accepted the {kind} but sent no certificate")
        self._check_certificate(transaction, kind, certificate, request)
        self._exchange(transaction, "certConf", m.cert_confirm(certificate, accepted=True))
        logs.event(
            "pki.cmp_enrolled",
            operation=kind,
            serial=f"{certificate.serial_number:040X}",
            transaction=transaction.transaction_id.hex(),
        )
        return IssuedCertificate(certificate=certificate, issuer_name=self.issuer_name())

    def _await_certificate(self, transaction: m.Transaction, kind: str, reply: m.Reply):
        """The CertResponse once it is no longer 'waiting' (polling), or the CA's refusal raised."""
        deadline = self._monotonic() + self.config.total_timeout
        response = reply.body["response"][0]
        status = m.status_of(response["status"])
        while status.status == m.WAITING:
            reply = self._exchange(
                transaction, "pollReq", m.poll_request(), expect=(REPLY_TO[kind], "pollRep")
            )
            if reply.kind == "pollRep":
                self._wait(transaction, kind, int(reply.body[0]["checkAfter"]), deadline)
                continue
            response = reply.body["response"][0]
            status = m.status_of(response["status"])
        if status.status not in (m.ACCEPTED, m.GRANTED_WITH_MODS):
            raise self._refused(kind, status, transaction, authenticated=True)
        return response

    def _wait(self, transaction: m.Transaction, kind: str, check_after: int, deadline: float) -> None:
        if self._monotonic() + check_after > deadline:
            raise CaUnreachable(
                f"the CA did not deliver within {self.config.total_timeout} s (still waiting)"
            )
        logs.event(
            "pki.cmp_waiting",
            operation=kind,
            check_after=check_after,
            transaction=transaction.transaction_id.hex(),
        )
        self._sleep(check_after)

    def _check_certificate(self, transaction, kind, certificate: x509.Certificate, request) -> None:
        """Refuse (certConf with rejection, so the CA revokes it) a certificate for another key or from
        another CA: the kiosk must never write what it cannot vouch for."""
        problem = ""
        if not same_key_as(certificate, request.public_key):
            problem = "the certificate is not for the key the kiosk generated"
        else:
            try:
                certificate.verify_directly_issued_by(self.config.issuing)
            except (ValueError, TypeError, InvalidSignature):
                problem = "the certificate is not signed by the configured issuing CA"
        if not problem:
            return
        logs.error("pki.cmp_certificate_refused", operation=kind, problem=problem)
        self._exchange(transaction, "certConf", m.cert_confirm(certificate, accepted=False, reason=problem))
        raise CaProtocolError(problem)

    # --- one round trip ----------------------------------------------------------------------------

    def _exchange(self, transaction: m.Transaction, kind: str, body, expect: tuple[str, ...] = ()) -> m.Reply:
        """Send one request, check the reply (protection, transaction, nonce) and raise the CA's refusal."""
        expect = expect or (REPLY_TO[kind],)
        reply = m.read_reply(self.transport.send(transaction.message(kind, body)))
        authenticated = self._authentic(transaction, reply)
        refusal = _refusal_status(reply)
        if refusal is not None and not authenticated:
            raise self._refused(kind, refusal, transaction, authenticated=False)
        if not authenticated:
            raise CaProtocolError(f"the CA's {reply.kind} is not protected by the CA or the shared code")
        if (
            reply.transaction_id != transaction.transaction_id
            or reply.recip_nonce != transaction.sender_nonce
        ):
            raise CaProtocolError(f"the CA's {reply.kind} does not answer this transaction")
        transaction.recip_nonce = reply.sender_nonce
        if reply.kind == "error":
            raise self._refused(kind, refusal, transaction, authenticated=True)
        if reply.kind not in expect:
            raise CaProtocolError(f"the CA answered a {kind} with {reply.kind}")
        return reply

    def _authentic(self, transaction: m.Transaction, reply: m.Reply) -> bool:
        protection = transaction.protection
        if isinstance(protection, m.MacProtection) and m.verify_mac(reply, protection.secret):
            return True
        return any(m.verify_signature(reply, signer) for signer in self._signers(reply))

    def _signers(self, reply: m.Reply) -> list[x509.Certificate]:
        """Certificates that may sign for the CA: its own, and CMP signers it certified (in extraCerts)."""
        signers = list(self.config.ca_certificates)
        for extra in reply.extra_certs:
            for ca in self.config.ca_certificates:
                try:
                    extra.verify_directly_issued_by(ca)
                except (ValueError, TypeError, InvalidSignature):
                    continue
                signers.append(extra)
        return [signer for signer in signers if reply.sent_by(signer.subject)]

    def _refused(
        self, kind: str, status: m.Status, transaction: m.Transaction, authenticated: bool
    ) -> CaRejected:
        """The typed error for a refusal, logged with the CA's own words for the technician."""
        fields = dict(
            operation=kind,
            status=status.status,
            status_text=status.text,
            fail_info=",".join(status.fail_info),
            transaction=transaction.transaction_id.hex(),
            authenticated=authenticated,
        )
        if not authenticated or AUTHENTICATION_FAILURES & set(status.fail_info):
            if isinstance(transaction.protection, m.MacProtection):
                fields["reference"] = transaction.protection.reference
            logs.warning("pki.cmp_reference_rejected", **fields)
            return ReferenceRejected(
                f"the CA did not accept the {_credential(transaction)} ({kind}): {status.text or 'no reason given'}",
                status.text,
                status.fail_info,
            )
        logs.error("pki.cmp_rejected", **fields)
        return CaRejected(
            f"the CA refused the {kind}: {status.text or 'no reason given'}", status.text, status.fail_info
        )


def _credential(transaction: m.Transaction) -> str:
    if isinstance(transaction.protection, m.MacProtection):
        return "reference number and authorisation code"
    return "old certificate's signature"


def _refusal_status(reply: m.Reply) -> m.Status | None:
    """The status of a negative reply (error, rejected certificate or revocation), else None."""
    if reply.kind == "error":
        return m.status_of(reply.body["pKIStatusInfo"])
    if reply.kind in ("ip", "cp", "kup"):
        status = m.status_of(reply.body["response"][0]["status"])
    elif reply.kind == "rp":
        status = m.status_of(reply.body["status"][0])
    else:
        return None
    return status if status.status == m.REJECTION else None


def same_key_as(certificate: x509.Certificate, public_key: rsa.RSAPublicKey) -> bool:
    key = certificate.public_key()
    return isinstance(key, rsa.RSAPublicKey) and key.public_numbers() == public_key.public_numbers()

"""The CMP responder of the embedded CA (`kiosk ca serve`): RFC 4210/4211 messages in, the embedded CA's
KISA-profile certificates out. The same message code as the kiosk's client (`kiosk.pki.cmp.messages`);
the HTTP transfer (RFC 6712) is in `kiosk.pki.cmp.http`.

What it accepts (docs/cmp.md has the table):
- `ir`/`cr`: protected with the password-based MAC of the reference number (senderKID) and authorisation
  code the registration agent handed out; the proof of possession (a signature with the requested key
  over the CertRequest) must verify; the EncryptedVID, when present, is opened with the CA's KEK (the
  issuing CA's key) and its resident number is what the code was derived from. A `cr` names the
  certificate it replaces (oldCertID) and keeps its expiry.
- `kur`: signed with the certificate being renewed, which this CA issued and has not revoked.
- `rr`: MAC with the revocation code for that serial, or signed by the certificate itself.
- `certConf` → `pkiConf` (a rejecting certConf revokes the certificate), `pollReq` → `pollRep` while an
  answer is held (`hold_seconds`), `genm` → `genp` with the CA certificates.
Every refusal is an `error` (or a rejecting ip/cp/kup/rp) with PKIStatusInfo and failInfo.
"""

from __future__ import annotations

import hmac
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pyasn1.codec.der import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pyasn1_modules import rfc2459, rfc2511, rfc4210, rfc4211

from kiosk import logs
from kiosk.pki.ca import CertificateRequest, serial_hex
from kiosk.pki.cmp import messages as m
from kiosk.pki.cmp.encrypted_vid import ENCRYPTED_VID, decrypt_vid
from kiosk.pki.cmp.registration import DemoRegistrationAgent
from kiosk.pki.embedded import EmbeddedCA
from kiosk.pki.errors import CaError, CaProtocolError, PkiError, UnknownCertificate

CA_CERTS = "1.3.6.1.5.5.7.4.17"  # id-it-caCerts (RFC 9483 4.3.1)
SIGNER_LIFETIME = timedelta(days=30)
TRANSACTION_LIFETIME = 600  # seconds a transaction (and its ID, against replays) is remembered
REASONS_BY_CODE = {0: "unspecified", 1: "keyCompromise", 3: "affiliationChanged", 4: "superseded",
                   5: "cessationOfOperation", 9: "privilegeWithdrawn"}
_CN = re.compile(r"(?P<real>[^()]*)\((?P<english>[^()]*)\)[0-9]*")


class Refusal(Exception):
    """A request the CA refuses: becomes PKIStatusInfo{rejection, text, failInfo}."""

    def __init__(self, fail_info: str, text: str):
        super().__init__(text)
        self.fail_info = fail_info
        self.text = text


class SecretBook:
    """The MAC secrets the CA accepts: what the registration agent handed out for a purpose.

    The demo registration agent derives reference and code from `<purpose>:<resident number>` (or
    `revoke:<serial>`) with a key the kiosk and this CA share; `register` adds a reference made
    elsewhere (a bank's RA, a test). A reference is bound to its purpose."""

    def __init__(self, demo: DemoRegistrationAgent | None = None):
        self._demo = demo
        self._registered: dict[str, tuple[str, bytes]] = {}

    def register(self, reference: str, secret: bytes, purpose: str) -> None:
        self._registered[reference] = (purpose, secret)

    def secret(self, reference: str, purpose: str, subject: str) -> bytes | None:
        """The code for `reference` if it was issued for `purpose` and `subject` (resident number or
        serial; empty when the request carries none), else None."""
        registered = self._registered.get(reference)
        if registered is not None:
            return registered[1] if registered[0] == purpose else None
        if self._demo is None or not subject:
            return None
        authorisation = self._demo._derive(f"{'revoke' if purpose == 'rr' else purpose}:{subject}")
        return authorisation.secret if authorisation.reference == reference else None


@dataclass
class _Transaction:
    kind: str
    auth: m.MacProtection | None  # the code that must protect certConf/pollReq; None: the kur's signer
    sender: object  # the requester's GeneralName, our replies' recipient
    started: float
    nonce: bytes = b""  # our last senderNonce, the requester's next recipNonce
    signer: x509.Certificate | None = None  # kur: the renewed certificate, whose key signs the rest
    certificate: x509.Certificate | None = None
    pending: Callable[[], x509.Certificate] | None = field(default=None, repr=False)
    ready_at: float = 0.0
    closed: bool = False


class CmpResponder:
    """One CMP message in, one out (`handle`); thread-safe: requests are served one at a time."""

    def __init__(self, ca: EmbeddedCA, secrets_: SecretBook, hold_seconds: float = 0,
                 monotonic: Callable[[], float] = time.monotonic,
                 signer: tuple[x509.Certificate, rsa.RSAPrivateKey] | None = None):
        self.ca = ca
        self.secrets = secrets_
        self.hold_seconds = hold_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._transactions: dict[bytes, _Transaction] = {}
        issuer = ca._issuer_parts()
        self.issuing = issuer.certificate
        self._key = issuer.key
        self.root = x509.load_pem_x509_certificates(ca.chain_pem())[-1]
        self.signer, signer_key = signer or cmp_signer(self.issuing, self._key, ca.clock.utcnow())
        self._signature = m.SignatureProtection(self.signer, signer_key)

    def __repr__(self) -> str:
        return f"CmpResponder({self.ca!r})"

    def handle(self, data: bytes) -> bytes:
        with self._lock:
            try:
                request = m.read_reply(data)
            except CaProtocolError as exc:
                logs.warning("ca.cmp_refused", operation="?", fail_info="badDataFormat", reason=str(exc))
                return self._error(None, Refusal("badDataFormat", "not a CMP message"))
            try:
                return self._answer(request, data)
            except Refusal as refusal:
                logs.warning("ca.cmp_refused", operation=request.kind, fail_info=refusal.fail_info,
                             reason=refusal.text, transaction=(request.transaction_id or b"").hex())
                return self._error(request, refusal)
            except (PkiError, PyAsn1Error, ValueError) as exc:
                logs.error("ca.cmp_failed", operation=request.kind, error=type(exc).__name__, reason=str(exc))
                return self._error(request, Refusal("systemFailure", "the CA could not process it"))
            finally:
                self.ca.store.close()

    def refresh_crl(self) -> None:
        """Publish a new CRL when the current one nears its nextUpdate (the kiosk reads crl.der)."""
        with self._lock:
            try:
                self.ca.crl_der()
            except (PkiError, OSError) as exc:
                logs.error("ca.crl_failed", error=type(exc).__name__, reason=str(exc))
            finally:
                self.ca.store.close()

    # --- dispatch ----------------------------------------------------------------------------------

    def _answer(self, request: m.Reply, data: bytes) -> bytes:
        if int(request.header["pvno"]) not in (2, 3):
            raise Refusal("unsupportedVersion", "pvno must be 2 or 3")
        self._forget_old()
        tid = request.transaction_id
        if not tid or request.sender_nonce is None:
            raise Refusal("badDataFormat", "the header needs a transactionID and a senderNonce")
        if request.kind == "genm":
            return self._general(request)
        if request.kind in ("ir", "cr", "kur", "rr"):
            if tid in self._transactions:
                raise Refusal("transactionIdInUse", "this transactionID was used before")
            return self._enrol(request) if request.kind != "rr" else self._revoke(request)
        if request.kind in ("certConf", "pollReq"):
            transaction = self._transactions.get(tid)
            if transaction is None or transaction.closed:
                raise Refusal("badRequest", f"no open transaction for this {request.kind}")
            if request.recip_nonce != transaction.nonce:
                raise Refusal("badRecipientNonce", "recipNonce is not the CA's last senderNonce")
            self._check_same_requester(request, transaction)
            if request.kind == "pollReq":
                return self._poll(request, transaction)
            return self._confirm(request, transaction)
        raise Refusal("badRequest", f"the CA does not answer {request.kind}")

    # --- ir, cr, kur -------------------------------------------------------------------------------

    def _enrol(self, request: m.Reply) -> bytes:
        messages = request.body
        if len(messages) != 1:
            raise Refusal("badRequest", "one certificate request per message")
        message = messages[0]
        cert_request = message["certReq"]
        public_key = _requested_key(cert_request["certTemplate"])
        _check_pop(message, public_key)
        idn, r = self._encrypted_vid(message)
        old = _old_cert_id(cert_request)
        signer = None
        if request.kind == "kur":
            signer = self._signer(request)
            if old is not None and old != signer.serial_number:
                raise Refusal("badCertId", "oldCertID is not the certificate that signed the kur")
            auth: m.MacProtection | None = None
            subject = _subject_of(cert_request["certTemplate"]) or signer.subject
            renews = serial_hex(signer.serial_number)
        else:
            purpose = "issue" if request.kind == "ir" else "reissue"
            auth = self._mac(request, purpose, idn)
            subject = _subject_of(cert_request["certTemplate"])
            if subject is None:
                raise Refusal("badCertTemplate", "the template has no subject")
            if request.kind == "cr" and old is not None:
                self._unrevoked(serial_hex(old))
        real, english = _names(subject)
        certificate_request = CertificateRequest(real, english, idn, r, public_key)

        def certify() -> x509.Certificate:
            if request.kind == "ir" or old is None:  # a cr naming no certificate: a new one, one year
                return self.ca.issue(certificate_request, None).certificate
            if request.kind == "cr":
                return self.ca.reissue(certificate_request, None, serial_hex(old)).certificate
            return self.ca.renew(certificate_request, None, renews).certificate

        transaction = _Transaction(request.kind, auth, request.header["sender"], self._monotonic(),
                                   signer=signer if request.kind == "kur" else None)
        self._transactions[request.transaction_id] = transaction
        if self.hold_seconds > 0:
            transaction.pending = certify
            transaction.ready_at = self._monotonic() + self.hold_seconds
            return self._reply(request, transaction, _REPLY[request.kind], _cert_response(None, m.WAITING))
        transaction.certificate = self._certify(certify, request.kind)
        return self._reply(request, transaction, _REPLY[request.kind], _cert_response(transaction.certificate))

    def _certify(self, certify: Callable[[], x509.Certificate], kind: str) -> x509.Certificate:
        try:
            certificate = certify()
        except UnknownCertificate as exc:
            raise Refusal("badCertId", str(exc)) from None
        except CaError as exc:
            raise Refusal("badCertTemplate" if "name" in str(exc) else "systemFailure", str(exc)) from None
        except PkiError as exc:  # InvalidApplicant: a name that cannot go into a certificate
            raise Refusal("badCertTemplate", str(exc)) from None
        logs.event("ca.cmp_certified", operation=kind, serial=serial_hex(certificate.serial_number))
        return certificate

    def _poll(self, request: m.Reply, transaction: _Transaction) -> bytes:
        if transaction.pending is None:
            raise Refusal("badRequest", "nothing is waiting in this transaction")
        remaining = transaction.ready_at - self._monotonic()
        if remaining > 0:
            content = rfc4210.PollRepContent()
            entry = content.componentType.clone()
            entry["certReqId"] = m.CERT_REQ_ID
            entry["checkAfter"] = max(1, math.ceil(remaining))
            content.append(entry)
            return self._reply(request, transaction, "pollRep", content)
        pending, transaction.pending = transaction.pending, None
        transaction.certificate = self._certify(pending, transaction.kind)
        return self._reply(request, transaction, _REPLY[transaction.kind],
                           _cert_response(transaction.certificate))

    def _confirm(self, request: m.Reply, transaction: _Transaction) -> bytes:
        if transaction.certificate is None:
            raise Refusal("badRequest", "no certificate to confirm in this transaction")
        statuses = request.body
        if len(statuses) != 1 or int(statuses[0]["certReqId"]) != m.CERT_REQ_ID:
            raise Refusal("badRequest", "certConf must confirm the one certificate (certReqId 0)")
        status = statuses[0]
        certificate = transaction.certificate
        algorithm = certificate.signature_hash_algorithm or hashes.SHA256()
        digest = hashes.Hash(algorithm)
        digest.update(certificate.public_bytes(serialization.Encoding.DER))
        if not hmac.compare_digest(bytes(status["certHash"]), digest.finalize()):
            raise Refusal("badCertId", "certHash is not the hash of the certificate issued")
        serial = serial_hex(certificate.serial_number)
        transaction.closed = True
        if status["statusInfo"].isValue and int(status["statusInfo"]["status"]) == m.REJECTION:
            self.ca.revoke(serial, "cessationOfOperation")
            logs.warning("ca.cmp_certificate_rejected", serial=serial,
                         reason=m.status_of(status["statusInfo"]).text)
        else:
            logs.event("ca.cmp_confirmed", operation=transaction.kind, serial=serial)
        return self._reply(request, transaction, "pkiconf", univ.Null(""))

    # --- rr ----------------------------------------------------------------------------------------

    def _revoke(self, request: m.Reply) -> bytes:
        if len(request.body) != 1:
            raise Refusal("badRequest", "one certificate per revocation request")
        details = request.body[0]
        template = details["certDetails"]
        if not template["serialNumber"].isValue:
            raise Refusal("badCertId", "the revocation request names no serial")
        serial = serial_hex(int(template["serialNumber"]))
        if template["issuer"].isValue and _name_der(template["issuer"]) != self.issuing.subject.public_bytes():
            raise Refusal("badCertId", "the certificate is not from this CA")
        reason = _reason(details)
        if request.protection_oid == m.PASSWORD_BASED_MAC:
            self._mac(request, "rr", serial)
        else:
            signer = self._signer(request, allow_revoked=True)
            if serial_hex(signer.serial_number) != serial:
                raise Refusal("notAuthorized", "a certificate may only revoke itself")
        transaction = _Transaction("rr", None, request.header["sender"], self._monotonic(), closed=True)
        self._transactions[request.transaction_id] = transaction
        content = m.RevRepContent()
        info = rfc4210.PKIStatusInfo()
        try:
            revoked_at = self._revocation_of(serial)
            if revoked_at:
                info = _status(m.REJECTION, "certRevoked", "the certificate is already revoked")
            else:
                self.ca.revoke(serial, reason)
                info["status"] = m.ACCEPTED
                logs.event("ca.cmp_revoked", serial=serial, reason=reason)
        except UnknownCertificate:
            info = _status(m.REJECTION, "badCertId", "this CA never issued that certificate")
        content["status"].append(info)
        return self._reply(request, transaction, "rp", content)

    # --- genm --------------------------------------------------------------------------------------

    def _general(self, request: m.Reply) -> bytes:
        """genp: the CA certificates for an id-it-caCerts request; an empty genp for an empty genm."""
        content = rfc4210.GenRepContent()
        for info in request.body:
            if str(info["infoType"]) != CA_CERTS:
                continue
            answer = rfc4210.InfoTypeAndValue()
            answer["infoType"] = univ.ObjectIdentifier(CA_CERTS)
            certificates = univ.SequenceOf(componentType=rfc4210.CMPCertificate())
            for certificate in (self.issuing, self.root):
                certificates.append(m._certificate_value(certificate))
            answer["infoValue"] = univ.Any(encoder.encode(certificates))
            content.append(answer)
        transaction = _Transaction("genm", None, request.header["sender"], self._monotonic(), closed=True)
        return self._reply(request, transaction, "gen", content)  # genp: pyasn1-modules names it gen

    # --- authentication ----------------------------------------------------------------------------

    def _mac(self, request: m.Reply, purpose: str, subject: str) -> m.MacProtection:
        if request.protection_oid != m.PASSWORD_BASED_MAC:
            raise Refusal("notAuthorized", f"a {request.kind} is protected with the registration agent's code")
        kid = request.header["senderKID"]
        reference = bytes(kid).decode("latin-1") if kid.isValue else ""
        secret = self.secrets.secret(reference, purpose, subject) if reference.isascii() else None
        try:
            valid = secret is not None and m.verify_mac(request, secret)
        except CaProtocolError:
            raise Refusal("badAlg", "unsupported password-based MAC parameters") from None
        if not valid:
            raise Refusal("badMessageCheck", "the MAC does not verify with this reference's code")
        return m.MacProtection(reference, secret)

    def _signer(self, request: m.Reply, allow_revoked: bool = False) -> x509.Certificate:
        """The certificate that signed `request`: issued by this CA, unrevoked, unexpired, and whose key
        made the signature."""
        if request.protection_oid not in m.SIGNATURE:
            raise Refusal("notAuthorized", f"a {request.kind} is signed with the certificate it concerns")
        candidates = [c for c in request.extra_certs if request.sent_by(c.subject)]
        if not candidates:
            raise Refusal("signerNotTrusted", "extraCerts hold no certificate of the sender")
        signer = candidates[0]
        try:
            signer.verify_directly_issued_by(self.issuing)
        except (ValueError, TypeError, InvalidSignature):
            raise Refusal("signerNotTrusted", "the signer's certificate is not from this CA") from None
        if not m.verify_signature(request, signer):
            raise Refusal("badMessageCheck", "the signature does not verify with the signer's certificate")
        serial = serial_hex(signer.serial_number)
        try:
            revoked_at = self._revocation_of(serial)
        except UnknownCertificate:
            raise Refusal("signerNotTrusted", "this CA has no record of the signer's certificate") from None
        if revoked_at and not allow_revoked:
            raise Refusal("certRevoked", "the signer's certificate is revoked")
        if signer.not_valid_after_utc < self.ca.clock.utcnow():
            raise Refusal("certRevoked", "the signer's certificate has expired")
        return signer

    def _check_same_requester(self, request: m.Reply, transaction: _Transaction) -> None:
        """certConf and pollReq come with the protection of the request that opened the transaction."""
        if transaction.auth is not None:
            try:
                valid = m.verify_mac(request, transaction.auth.secret)
            except CaProtocolError:
                valid = False
        else:  # kur: the renewed certificate's key signs the rest of the transaction
            valid = transaction.signer is not None and m.verify_signature(request, transaction.signer)
        if not valid:
            raise Refusal("badMessageCheck", f"the {request.kind}'s protection is not the transaction's")

    def _unrevoked(self, serial: str) -> None:
        try:
            if self._revocation_of(serial):
                raise Refusal("certRevoked", "the certificate to replace is revoked")
        except UnknownCertificate:
            raise Refusal("badCertId", "this CA never issued the certificate to replace") from None

    def _revocation_of(self, serial: str) -> str | None:
        row = self.ca.store.query_one("SELECT revoked_at FROM embedded_ca_issued WHERE serial = ?", (serial,))
        if row is None:
            raise UnknownCertificate(f"the embedded CA never issued {serial}")
        return row["revoked_at"]

    def _encrypted_vid(self, message) -> tuple[str, bytes]:
        """(resident number, R) from the EncryptedVID in regInfo, or ("", b"") when there is none."""
        if not message["regInfo"].isValue:
            return "", b""
        for attribute in message["regInfo"]:
            if str(attribute["type"]) == ENCRYPTED_VID:
                try:
                    return decrypt_vid(bytes(attribute["value"]), self.issuing, self._key)
                except (PkiError, ValueError) as exc:
                    raise Refusal("badDataFormat", f"the EncryptedVID does not open: {exc}") from None
        return "", b""

    # --- replies -----------------------------------------------------------------------------------

    def _reply(self, request: m.Reply, transaction: _Transaction, kind: str, body) -> bytes:
        """A reply signed by the CA's CMP signer (RFC 9483 allows it after a MAC-protected request; it
        spares both sides a password-based key derivation per message)."""
        reply = _ReplyTransaction(self.signer.subject, x509.Name([]), self._signature,
                                  transaction_id=request.transaction_id, recip_nonce=request.sender_nonce,
                                  chain=(self.issuing, self.root))
        reply.to = transaction.sender
        data = reply.message(kind, body)
        transaction.nonce = reply.sender_nonce
        return data

    def _error(self, request: m.Reply | None, refusal: Refusal) -> bytes:
        content = rfc4210.ErrorMsgContent()
        content["pKIStatusInfo"] = _status(m.REJECTION, refusal.fail_info, refusal.text)
        reply = _ReplyTransaction(
            self.signer.subject, x509.Name([]), self._signature,
            transaction_id=(request.transaction_id if request else None) or secrets.token_bytes(16),
            recip_nonce=request.sender_nonce if request else None, chain=(self.issuing, self.root))
        reply.to = request.header["sender"] if request else None
        return reply.message("error", content)

    def _forget_old(self) -> None:
        """Drop transactions past their lifetime; a certificate never confirmed (certConf) is revoked, as
        the kiosk never delivered it (RFC 4210 5.3.18: the CA need not keep an unconfirmed certificate)."""
        horizon = self._monotonic() - TRANSACTION_LIFETIME
        for tid in [t for t, v in self._transactions.items() if v.started < horizon]:
            transaction = self._transactions.pop(tid)
            if transaction.certificate is not None and not transaction.closed:
                serial = serial_hex(transaction.certificate.serial_number)
                self.ca.revoke(serial, "cessationOfOperation")
                logs.warning("ca.cmp_unconfirmed_revoked", serial=serial)


class _ReplyTransaction(m.Transaction):
    """A reply's header: addressed to the requester's own GeneralName (NULL-DN or its subject)."""

    to = None

    def _header(self):
        header = super()._header()
        if self.to is not None:
            header["recipient"] = self.to
        return header


_REPLY = {"ir": "ip", "cr": "cp", "kur": "kup"}


def cmp_signer(issuing: x509.Certificate, issuing_key, now) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A CMP signer certificate for this run of the responder (RFC 9483 3.1: a CA's key that signs
    certificates does not sign protocol messages; OpenSSL insists on digitalSignature). Its key lives in
    memory only; a new one is made at each start."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = issuing.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    subject = x509.Name([*[a for a in issuing.subject if a.oid != x509.NameOID.COMMON_NAME],
                         x509.NameAttribute(x509.NameOID.COMMON_NAME, f"{ca_name} CMP")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuing.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(min(now + SIGNER_LIFETIME, issuing.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing_key.public_key()),
                       critical=False)
        .sign(issuing_key, hashes.SHA256())
    )
    return certificate, key


# --- reading requests ----------------------------------------------------------------------------------


def _requested_key(template) -> rsa.RSAPublicKey:
    if not template["publicKey"].isValue:
        raise Refusal("badCertTemplate", "the template has no public key")
    der = bytearray(encoder.encode(template["publicKey"]))
    der[0] = 0x30  # [6] IMPLICIT SubjectPublicKeyInfo → SEQUENCE
    try:
        key = serialization.load_der_public_key(bytes(der))
    except ValueError:
        raise Refusal("badCertTemplate", "the template's public key does not load") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise Refusal("badAlg", "the KISA profile certifies RSA keys of 2048 bits or more")
    return key


def _check_pop(message, public_key: rsa.RSAPublicKey) -> None:
    """POP by signature over DER(certReq) (RFC 4211 4.1; poposkInput absent as the template has the
    subject and key). Anything else is refused: the CA certifies only a key the requester holds."""
    pop = message["pop"]
    if not pop.isValue or pop.getName() != "signature":
        raise Refusal("badPOP", "proof of possession by signature is required")
    signature = pop["signature"]
    if signature["poposkInput"].isValue:
        raise Refusal("badPOP", "poposkInput is not used when the template has subject and key")
    algorithm = m.SIGNATURE.get(str(signature["algorithmIdentifier"]["algorithm"]))
    if algorithm is None or algorithm[0] != "rsa":
        raise Refusal("badAlg", "POP signature algorithm not supported")
    try:
        public_key.verify(signature["signature"].asOctets(), encoder.encode(message["certReq"]),
                          padding.PKCS1v15(), algorithm[1]())
    except InvalidSignature:
        raise Refusal("badPOP", "the proof of possession does not verify with the requested key") from None


def _old_cert_id(cert_request) -> int | None:
    if not cert_request["controls"].isValue:
        return None
    for control in cert_request["controls"]:
        if control["type"] == rfc2511.id_regCtrl_oldCertID:
            try:
                cert_id, _ = decoder.decode(bytes(control["value"]), asn1Spec=rfc4211.CertId())
            except PyAsn1Error:
                raise Refusal("badDataFormat", "oldCertID does not decode") from None
            return int(cert_id["serialNumber"])
    return None


def _name_der(tagged) -> bytes:
    """DER of the Name inside a tagged Name slot (template subject/issuer)."""
    plain = rfc2459.Name()
    plain.setComponentByPosition(0, tagged.getComponentByPosition(0))
    return encoder.encode(plain)


def _subject_of(template) -> x509.Name | None:
    if not template["subject"].isValue:
        return None
    return name_from_der(_name_der(template["subject"]))


def name_from_der(der: bytes) -> x509.Name:
    """An x509.Name from DER (cryptography reads names only inside certificates)."""
    value, _ = decoder.decode(der, asn1Spec=rfc2459.Name())
    rdns = []
    for rdn in value[0]:
        attributes = []
        for atv in rdn:
            text, _ = decoder.decode(bytes(atv["value"]))
            attributes.append(x509.NameAttribute(x509.ObjectIdentifier(str(atv["type"])), str(text)))
        rdns.append(x509.RelativeDistinguishedName(attributes))
    return x509.Name(rdns)


def _names(subject: x509.Name) -> tuple[str, str]:
    """Real and English name from a requested CN `홍길동(HONG GILDONG)[number]`, or a plain CN."""
    found = subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    if not found:
        raise Refusal("badCertTemplate", "the requested subject has no CN")
    cn = str(found[0].value)
    match = _CN.fullmatch(cn)
    return (match["real"], match["english"]) if match else (cn, "")


def _reason(details) -> str:
    if details["crlEntryDetails"].isValue:
        for extension in details["crlEntryDetails"]:
            if str(extension["extnID"]) == m.REASON_CODE:
                code, _ = decoder.decode(bytes(extension["extnValue"]), asn1Spec=univ.Enumerated())
                if int(code) not in REASONS_BY_CODE:
                    raise Refusal("badRequest", f"revocation reason {int(code)} is not accepted")
                return REASONS_BY_CODE[int(code)]
    return "unspecified"


def _status(status: int, fail_info: str = "", text: str = "") -> rfc4210.PKIStatusInfo:
    info = rfc4210.PKIStatusInfo()
    info["status"] = status
    if text:
        info["statusString"].append(text)
    if fail_info:
        info["failInfo"] = rfc4210.PKIFailureInfo(fail_info)
    return info


def _cert_response(certificate: x509.Certificate | None, status: int = m.ACCEPTED) -> rfc4210.CertRepMessage:
    content = rfc4210.CertRepMessage()
    response = rfc4210.CertResponse()
    response["certReqId"] = m.CERT_REQ_ID
    response["status"] = _status(status)
    if certificate is not None:
        slot = response["certifiedKeyPair"]["certOrEncCert"]
        slot["certificate"] = m._in_slot(slot.componentType["certificate"].asn1Object,
                                         m._certificate_value(certificate))
    content["response"].append(response)
    return content

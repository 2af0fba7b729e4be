"""CMP messages (RFC 4210, CRMF RFC 4211) as pyasn1 values: build and protect the kiosk's requests, read
and check the CA's replies. No I/O here (`kiosk.pki.cmp` sends them), so every message can be checked
against the RFC modules of pyasn1-modules without a CA.

The structures come from `pyasn1_modules.rfc4210` (whose PKIBody embeds the CRMF types of
`rfc2511`, identical in DER to RFC 4211's). The protected part of a reply is cut from the reply's own
bytes rather than re-encoded, so a peer's encoding never makes a valid MAC or signature look broken.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyasn1.codec.der import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import namedtype, tag, univ
from pyasn1_modules import rfc2459, rfc2511, rfc3280, rfc4210, rfc4211

from kiosk.pki.errors import CaProtocolError

PASSWORD_BASED_MAC = "1.2.840.113533.7.66.13"
SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
REASON_CODE = "2.5.29.21"
OWF = {"2.16.840.1.101.3.4.2.1": "sha256", "1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.3": "sha512"}
MAC = {
    "1.2.840.113549.2.9": "sha256",  # hmacWithSHA256
    "1.2.840.113549.2.7": "sha1",  # hmacWithSHA1
    "1.3.6.1.5.5.8.1.2": "sha1",  # hmac-sha1 (what OpenSSL sends by default)
    "1.2.840.113549.2.11": "sha512",  # hmacWithSHA512
}
SIGNATURE = {
    "1.2.840.113549.1.1.11": ("rsa", hashes.SHA256),
    "1.2.840.113549.1.1.12": ("rsa", hashes.SHA384),
    "1.2.840.113549.1.1.13": ("rsa", hashes.SHA512),
    "1.2.840.10045.4.3.2": ("ec", hashes.SHA256),
    "1.2.840.10045.4.3.3": ("ec", hashes.SHA384),
    "1.2.840.10045.4.3.4": ("ec", hashes.SHA512),
}
PBM_ITERATIONS = 10_000  # OpenSSL accepts 100..100000; 10000 makes guessing a code offline costly
CERT_REQ_ID = 0
NULL = b"\x05\x00"

# PKIStatus values (RFC 4210 5.2.3)
ACCEPTED, GRANTED_WITH_MODS, REJECTION, WAITING = 0, 1, 2, 3


# --- the RFC 4210 module, corrected ---------------------------------------------------------------------
# pyasn1-modules' rfc4210 takes CertId from rfc2511, whose GeneralName is a placeholder OCTET STRING, so an
# rp naming the revoked certificate (revCerts) does not decode; RFC 4211's module has the real CertId.


class RevRepContent(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("status", univ.SequenceOf(componentType=rfc4210.PKIStatusInfo())),
        namedtype.OptionalNamedType(
            "revCerts",
            univ.SequenceOf(componentType=rfc4211.CertId()).subtype(
                explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 0)
            ),
        ),
        namedtype.OptionalNamedType(
            "crls",
            univ.SequenceOf(componentType=rfc2459.CertificateList()).subtype(
                explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 1)
            ),
        ),
    )


def _replaced(types: namedtype.NamedTypes, name: str, asn1_object) -> namedtype.NamedTypes:
    return namedtype.NamedTypes(
        *(namedtype.NamedType(name, asn1_object) if item.name == name else item for item in types.namedTypes)
    )


class PKIBody(rfc4210.PKIBody):
    componentType = _replaced(
        rfc4210.PKIBody.componentType,
        "rp",
        RevRepContent().subtype(explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 12)),
    )


class PKIMessage(rfc4210.PKIMessage):
    componentType = _replaced(rfc4210.PKIMessage.componentType, "body", PKIBody())


# --- small DER helpers ---------------------------------------------------------------------------------


def _algorithm(oid: str, parameters: bytes | None = None) -> rfc2459.AlgorithmIdentifier:
    value = rfc2459.AlgorithmIdentifier()
    value["algorithm"] = univ.ObjectIdentifier(oid)
    if parameters is not None:
        value["parameters"] = univ.Any(parameters)
    return value


def _name(name: x509.Name, module=rfc2459):
    value, _ = decoder.decode(name.public_bytes(), asn1Spec=module.Name())
    return value


def _tagged_name(spec, name: x509.Name, module=rfc2459):
    """A Name (an untagged CHOICE) placed into a tagged slot: copy its one alternative into the spec."""
    value = spec.clone()
    value.setComponentByPosition(0, _name(name, module).getComponentByPosition(0))  # rfc2459 names it ''

    return value


def _directory_name(name: x509.Name, module=rfc2459):
    general = module.GeneralName()
    general["directoryName"] = _tagged_name(general.componentType["directoryName"].asn1Object, name, module)
    return general


def _in_slot(spec, value):
    """`value` re-read as `spec`, a tagged alternative of PKIBody (pyasn1 refuses the untagged value)."""
    tagged, _ = decoder.decode(_explicit(spec.tagSet[-1].tagId, encoder.encode(value)), asn1Spec=spec)
    return tagged


def _explicit(tag_id: int, content: bytes) -> bytes:
    return bytes([0xA0 | tag_id]) + _length(len(content)) + content


def _certificate_value(certificate: x509.Certificate) -> rfc4210.CMPCertificate:
    value, _ = decoder.decode(
        certificate.public_bytes(serialization.Encoding.DER), asn1Spec=rfc4210.CMPCertificate()
    )
    return value


def _tlv(data: bytes, offset: int) -> tuple[int, int]:
    """(start of contents, end) of the DER element at `offset`."""
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    return start, start + length


def protected_part_of(message: bytes) -> bytes:
    """DER of ProtectedPart ::= SEQUENCE{header, body}, cut from a PKIMessage's own bytes."""
    outer, _ = _tlv(message, 0)
    _, header_end = _tlv(message, outer)
    _, body_end = _tlv(message, header_end)
    content = message[outer:body_end]
    return b"\x30" + _length(len(content)) + content


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


# --- protection ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MacProtection:
    """Password-based MAC (RFC 4210 5.1.3.1) keyed with the authorisation code; the reference is the KID.
    One salt per transaction, so the 10 000-fold key derivation runs once per transaction on each side."""

    reference: str
    secret: bytes = field(repr=False)
    salt: bytes = field(default_factory=lambda: secrets.token_bytes(16), repr=False)

    def algorithm(self) -> rfc2459.AlgorithmIdentifier:
        params = rfc4210.PBMParameter()
        params["salt"] = self.salt
        params["owf"] = _algorithm("2.16.840.1.101.3.4.2.1")
        params["iterationCount"] = PBM_ITERATIONS
        params["mac"] = _algorithm("1.2.840.113549.2.9")
        return _algorithm(PASSWORD_BASED_MAC, encoder.encode(params))

    def sign(self, algorithm: rfc2459.AlgorithmIdentifier, data: bytes) -> bytes:
        return pbm(self.secret, algorithm, data)


@dataclass(frozen=True)
class SignatureProtection:
    """Signature with a certified key: a renewal (kur) is signed with the key being replaced."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey = field(repr=False)

    def algorithm(self) -> rfc2459.AlgorithmIdentifier:
        return _algorithm(SHA256_WITH_RSA, NULL)

    def sign(self, algorithm: rfc2459.AlgorithmIdentifier, data: bytes) -> bytes:
        return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def pbm(secret: bytes, algorithm: rfc2459.AlgorithmIdentifier, data: bytes) -> bytes:
    """The PBM value: OWF applied iterationCount times to secret||salt gives the HMAC key."""
    try:
        params, _ = decoder.decode(bytes(algorithm["parameters"]), asn1Spec=rfc4210.PBMParameter())
        owf = OWF[str(params["owf"]["algorithm"])]
        mac = MAC[str(params["mac"]["algorithm"])]
    except (PyAsn1Error, KeyError) as exc:
        raise CaProtocolError("unsupported password-based MAC parameters") from exc
    iterations = int(params["iterationCount"])
    if not 1 <= iterations <= 100_000:
        raise CaProtocolError(f"PBM iteration count {iterations} out of range")
    key = _pbm_key(secret, bytes(params["salt"]), owf, iterations)
    return hmac.new(key, data, mac).digest()


@functools.lru_cache(maxsize=32)
def _pbm_key(secret: bytes, salt: bytes, owf: str, iterations: int) -> bytes:
    """OWF applied `iterations` times to secret||salt; remembered for the few transactions in flight."""
    key = hashlib.new(owf, secret + salt).digest()
    for _ in range(iterations - 1):
        key = hashlib.new(owf, key).digest()
    return key


# --- requests ------------------------------------------------------------------------------------------


@dataclass
class Transaction:
    """One CMP transaction: its ID, and the CA's last nonce that our next request echoes (recipNonce)."""

    sender: x509.Name
    recipient: x509.Name
    protection: MacProtection | SignatureProtection
    transaction_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    recip_nonce: bytes | None = None
    sender_nonce: bytes = b""
    chain: tuple[x509.Certificate, ...] = ()  # sent after the signer's certificate (its issuers)

    def message(self, kind: str, body_value) -> bytes:
        """DER of a protected PKIMessage whose body is `kind` (ir, cr, kur, rr, certConf, pollReq)."""
        self.sender_nonce = secrets.token_bytes(16)
        header = self._header()
        body = rfc4210.PKIBody()
        body[kind] = _in_slot(body.componentType[kind].asn1Object, body_value)
        part = rfc4210.ProtectedPart()
        part["header"] = header
        part["infoValue"] = body
        message = rfc4210.PKIMessage()
        message["header"] = header
        message["body"] = body
        signature = self.protection.sign(header["protectionAlg"], encoder.encode(part))
        message["protection"] = message["protection"].clone(hexValue=signature.hex())
        if isinstance(self.protection, SignatureProtection):
            for certificate in (self.protection.certificate, *self.chain):
                message["extraCerts"].append(_certificate_value(certificate))
        return encoder.encode(message)

    def _header(self) -> rfc4210.PKIHeader:
        header = _plain_header(self.sender, self.recipient, self.transaction_id, self.sender_nonce)
        algorithm = self.protection.algorithm()
        header["protectionAlg"]["algorithm"] = algorithm["algorithm"]
        header["protectionAlg"]["parameters"] = algorithm["parameters"]
        header["senderKID"] = self._sender_kid()
        if self.recip_nonce is not None:
            header["recipNonce"] = self.recip_nonce
        return header

    def _sender_kid(self) -> bytes:
        if isinstance(self.protection, MacProtection):
            return self.protection.reference.encode("ascii")
        return self.protection.certificate.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier
        ).value.digest


def _plain_header(sender: x509.Name, recipient: x509.Name, transaction_id: bytes, nonce: bytes):
    header = rfc4210.PKIHeader()
    header["pvno"] = 2
    header["sender"] = _directory_name(sender)
    header["recipient"] = _directory_name(recipient)
    header["messageTime"] = header["messageTime"].clone(datetime.now(UTC).strftime("%Y%m%d%H%M%SZ"))
    header["transactionID"] = transaction_id
    header["senderNonce"] = nonce
    return header


def probe(recipient: x509.Name) -> bytes:
    """An unprotected, empty general message (genm, RFC 4210 5.3.19) for `kiosk doctor`: it authorises
    nothing, and a CA answers it with genp or an error message, either of which shows that the CA is
    there and speaks CMP at this URL."""
    message = rfc4210.PKIMessage()
    message["header"] = _plain_header(x509.Name([]), recipient, secrets.token_bytes(16), secrets.token_bytes(16))
    body = rfc4210.PKIBody()
    body["genm"] = _in_slot(body.componentType["genm"].asn1Object, rfc4210.GenMsgContent().clear())
    message["body"] = body
    return encoder.encode(message)


def cert_request(
    public_key: rsa.RSAPublicKey,
    pop_key: rsa.RSAPrivateKey,
    subject: x509.Name,
    reg_info: list[tuple[str, bytes]],
    old_cert: tuple[x509.Name, int] | None = None,
) -> rfc2511.CertReqMessages:
    """CertReqMessages with one CertReqMsg: template (subject, public key), oldCertID control when a
    certificate is replaced, POP signed with the new key over DER(certReq) (RFC 4211 4.1: template has
    subject and key, so poposkInput is omitted), and regInfo (the EncryptedVID)."""
    request = rfc2511.CertRequest()
    request["certReqId"] = CERT_REQ_ID
    template = request["certTemplate"]
    template["subject"] = _tagged_name(template.componentType["subject"].asn1Object, subject)
    spki, _ = decoder.decode(
        public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        asn1Spec=rfc2459.SubjectPublicKeyInfo(),
    )
    template["publicKey"]["algorithm"] = spki["algorithm"]
    template["publicKey"]["subjectPublicKey"] = spki["subjectPublicKey"]
    if old_cert is not None:
        request["controls"].append(_old_cert_id(*old_cert))
    message = rfc2511.CertReqMsg()
    message["certReq"] = request
    signature = message["pop"]["signature"]
    signature["algorithmIdentifier"] = _algorithm(SHA256_WITH_RSA, NULL)
    signature["signature"] = univ.BitString.fromOctetString(
        pop_key.sign(encoder.encode(request), padding.PKCS1v15(), hashes.SHA256())
    )
    for oid, value in reg_info:
        attribute = rfc2511.AttributeTypeAndValue()
        attribute["type"] = univ.ObjectIdentifier(oid)
        attribute["value"] = univ.Any(value)
        message["regInfo"].append(attribute)
    messages = rfc2511.CertReqMessages()
    messages.append(message)
    return messages


def _old_cert_id(issuer: x509.Name, serial: int) -> rfc2511.AttributeTypeAndValue:
    # rfc2511's CertId has a placeholder GeneralName (an OCTET STRING); RFC 4211's module has the real one
    cert_id = rfc4211.CertId()
    cert_id["issuer"] = _directory_name(issuer, rfc3280)
    cert_id["serialNumber"] = serial
    control = rfc2511.AttributeTypeAndValue()
    control["type"] = rfc2511.id_regCtrl_oldCertID
    control["value"] = univ.Any(encoder.encode(cert_id))
    return control


def revocation_request(issuer: x509.Name, serial: int, reason_code: int) -> rfc4210.RevReqContent:
    """RevReqContent for one certificate, named by issuer and serial, with its CRL reason code."""
    details = rfc4210.RevDetails()
    template = details["certDetails"]
    template["serialNumber"] = serial
    template["issuer"] = _tagged_name(template.componentType["issuer"].asn1Object, issuer)
    extension = rfc2459.Extension()
    extension["extnID"] = univ.ObjectIdentifier(REASON_CODE)
    extension["critical"] = False
    extension["extnValue"] = encoder.encode(univ.Enumerated(reason_code))
    details["crlEntryDetails"].append(extension)
    content = rfc4210.RevReqContent()
    content.append(details)
    return content


def cert_confirm(
    certificate: x509.Certificate, accepted: bool, reason: str = ""
) -> rfc4210.CertConfirmContent:
    """certConf: the hash of the certificate (with the hash of its signature algorithm, RFC 4210 5.3.18)
    and, when the kiosk refuses it, a rejection so that the CA revokes it."""
    algorithm = certificate.signature_hash_algorithm or hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(certificate.public_bytes(serialization.Encoding.DER))
    status = rfc4210.CertStatus()
    status["certHash"] = digest.finalize()
    status["certReqId"] = CERT_REQ_ID
    if not accepted:
        status["statusInfo"]["status"] = REJECTION
        status["statusInfo"]["statusString"].append(reason)
        status["statusInfo"]["failInfo"] = rfc4210.PKIFailureInfo("badCertTemplate")
    content = rfc4210.CertConfirmContent()
    content.append(status)
    return content


def poll_request() -> rfc4210.PollReqContent:
    content = rfc4210.PollReqContent()
    entry = content.componentType.clone()
    entry["certReqId"] = CERT_REQ_ID
    content.append(entry)
    return content


# --- replies -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """A PKIStatusInfo in words: status number, the CA's status text and failInfo bit names."""

    status: int
    text: str = ""
    fail_info: tuple[str, ...] = ()


def status_of(info) -> Status:
    text = " / ".join(str(part) for part in info["statusString"]) if info["statusString"].isValue else ""
    names: tuple[str, ...] = ()
    if info["failInfo"].isValue:
        named = rfc4210.PKIFailureInfo.namedValues
        names = tuple(named.getName(bit) or str(bit) for bit, on in enumerate(info["failInfo"]) if on)
    return Status(int(info["status"]), text, names)


@dataclass(frozen=True)
class Reply:
    """A decoded PKIMessage from the CA, with what is needed to check its protection."""

    kind: str
    header: rfc4210.PKIHeader
    body: object
    protected_part: bytes
    protection: bytes | None
    extra_certs: tuple[x509.Certificate, ...]

    @property
    def protection_oid(self) -> str | None:
        if not self.header["protectionAlg"].isValue:
            return None
        return str(self.header["protectionAlg"]["algorithm"])

    @property
    def sender_nonce(self) -> bytes | None:
        return bytes(self.header["senderNonce"]) if self.header["senderNonce"].isValue else None

    @property
    def recip_nonce(self) -> bytes | None:
        return bytes(self.header["recipNonce"]) if self.header["recipNonce"].isValue else None

    @property
    def transaction_id(self) -> bytes | None:
        return bytes(self.header["transactionID"]) if self.header["transactionID"].isValue else None

    def sent_by(self, name: x509.Name) -> bool:
        """Whether the header's sender is the directory name `name` (compared as DER)."""
        sender = self.header["sender"]
        if sender.getName() != "directoryName":
            return False
        plain = rfc2459.Name()
        plain.setComponentByPosition(0, sender["directoryName"].getComponentByPosition(0))
        return encoder.encode(plain) == name.public_bytes()


def read_reply(data: bytes) -> Reply:
    """Decode a PKIMessage; raises CaProtocolError on anything that is not one."""
    try:
        message, rest = decoder.decode(data, asn1Spec=PKIMessage())
    except (PyAsn1Error, ValueError, IndexError) as exc:
        raise CaProtocolError("the CA's reply is not a CMP message") from exc
    if rest:
        raise CaProtocolError("trailing bytes after the CA's CMP message")
    body = message["body"]
    kind = body.getName()
    extra = ()
    if message["extraCerts"].isValue:
        extra = tuple(x509.load_der_x509_certificate(encoder.encode(c)) for c in message["extraCerts"])
    protection = message["protection"].asOctets() if message["protection"].isValue else None
    return Reply(kind, message["header"], body[kind], protected_part_of(data), protection, extra)


def verify_mac(reply: Reply, secret: bytes) -> bool:
    if reply.protection is None or reply.protection_oid != PASSWORD_BASED_MAC:
        return False
    expected = pbm(secret, reply.header["protectionAlg"], reply.protected_part)
    return hmac.compare_digest(expected, reply.protection)


def verify_signature(reply: Reply, certificate: x509.Certificate) -> bool:
    """Whether `certificate`'s key signed the reply's protected part."""
    algorithm = SIGNATURE.get(reply.protection_oid or "")
    if reply.protection is None or algorithm is None:
        return False
    kind, digest = algorithm
    key = certificate.public_key()
    try:
        if kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(reply.protection, reply.protected_part, padding.PKCS1v15(), digest())
        elif kind == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(reply.protection, reply.protected_part, ec.ECDSA(digest()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def certificate_of(response) -> x509.Certificate | None:
    """The certificate in a CertResponse, or None (e.g. waiting or rejected)."""
    pair = response["certifiedKeyPair"]
    if not pair.isValue:
        return None
    cert_or_enc = pair["certOrEncCert"]
    if cert_or_enc.getName() != "certificate":
        raise CaProtocolError("the CA sent an encrypted certificate, which the kiosk does not request")
    tagged = encoder.encode(cert_or_enc["certificate"])  # [0] EXPLICIT Certificate
    start, end = _tlv(tagged, 0)
    return x509.load_der_x509_certificate(tagged[start:end])

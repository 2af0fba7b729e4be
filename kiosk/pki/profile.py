"""The yessign personal banking certificate profile (NPKI.md), applied by the embedded CA.

Subject in DER order C=kr (PrintableString), O=yessign, OU=personal4IB, OU=<bank>, CN (UTF8String);
keyUsage digitalSignature+nonRepudiation (critical); certificatePolicies 1.2.410.200005.1.1.4 with a CPS
and a user notice (critical); AKI (key id + issuer name + serial) and SKI; subjectAltName KISA
identifyData with the real name and the VID; CRL distribution point and OCSP; one year of validity.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from pyasn1.codec.der import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import char, namedtype, tag, univ

from kiosk.pki import oids
from kiosk.pki.errors import InvalidApplicant

ORGANIZATION = "yessign"
PERSONAL_OU = "personal4IB"
MAX_COMMON_NAME = 64  # X.520 ub-common-name, in UTF-8 bytes (see common_name)
USER_NOTICE = "이 인증서는 은행·보험 거래용 공동인증서입니다"
# Letters of any script, spaces, and the few marks real names carry; nothing that means something in a
# DN (`, = + ( )`) or in a FAT file name (`/ \ : * ? " < > |`).
_REAL_NAME = re.compile(r"^[^\W\d_]+(?:[ .'\-][^\W\d_]+)*$")
_ENGLISH_NAME = re.compile(r"^(?:[A-Za-z]+(?:[ .'\-][A-Za-z]+)*)?$")


# --- names ---------------------------------------------------------------------------------------------


def check_names(real_name: str, english_name: str) -> tuple[str, str]:
    """NFC-normalised names fit for a CN and a folder name; raises InvalidApplicant otherwise."""
    real = unicodedata.normalize("NFC", real_name.strip())
    english = unicodedata.normalize("NFC", english_name.strip())
    if not _REAL_NAME.match(real):
        raise InvalidApplicant("the name may hold only letters, single spaces and . ' -")
    if not _ENGLISH_NAME.match(english):
        raise InvalidApplicant("the English name may hold only Latin letters, single spaces and . ' -")
    return real, english


def cn_number(institution_code: str, issued_on: date, digits: str) -> str:
    """`00` + institution (2) + `04` + `1` + YYYYMMDD + serial digits (the layout is *inferred*, NPKI.md)."""
    if not re.fullmatch(r"[0-9]{2}", institution_code):
        raise ValueError("the institution code must be 2 digits")
    return f"00{institution_code}041{issued_on:%Y%m%d}{digits}"


def common_name(real_name: str, english_name: str, number: str) -> str:
    """`홍길동(HONG GILDONG)0011041…`: the parentheses stay, empty, when there is no English name."""
    name = unicodedata.normalize("NFC", f"{real_name}({english_name}){number}")
    # X.520 counts characters; `cryptography` counts UTF-8 bytes, and we follow the stricter rule
    # (12 Hangul syllables without an English name; long foreign names are refused, not truncated)
    if len(name.encode("utf-8")) > MAX_COMMON_NAME:
        raise InvalidApplicant(f"the name is too long for a certificate ({MAX_COMMON_NAME} bytes in all)")
    return name


def common_name_of(certificate: x509.Certificate) -> str:
    return str(certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def subject_name(cn: str, bank_code: str) -> x509.Name:
    """The subject in DER order: C, O, OU=personal4IB, OU=<bank>, CN."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "kr"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, PERSONAL_OU),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, bank_code),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


_SHORT = {
    NameOID.COUNTRY_NAME: "c",
    NameOID.ORGANIZATION_NAME: "o",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "ou",
    NameOID.COMMON_NAME: "cn",
}


def folder_name(subject: x509.Name) -> str:
    """The NPKI folder name: most specific first, lowercase attribute names, comma-joined, NFC."""
    parts = []
    for attribute in reversed(list(subject)):
        short = _SHORT.get(attribute.oid)
        if short is None:
            raise ValueError(f"unexpected attribute {attribute.oid.dotted_string} in an NPKI subject")
        parts.append(f"{short}={attribute.value}")
    return unicodedata.normalize("NFC", ",".join(parts))


# --- identifyData (KISA) -------------------------------------------------------------------------------


class _HashAlgorithm(univ.Sequence):
    componentType = namedtype.NamedTypes(namedtype.NamedType("algorithm", univ.ObjectIdentifier()))


class _Vid(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("hashAlg", _HashAlgorithm()),
        namedtype.NamedType(
            "virtualID",
            univ.OctetString().subtype(explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 0)),
        ),
    )


class _UserInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("idType", univ.ObjectIdentifier()),
        namedtype.NamedType("idValue", _Vid()),
    )


class _IdentifyData(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("realName", char.UTF8String()),
        namedtype.NamedType("userInfos", univ.SequenceOf(componentType=_UserInfo())),
    )


def identify_data(real_name: str, vid: bytes | None) -> bytes:
    """DER of KISA identifyData: realName and one VID (SHA-256, no NULL parameters); no VID when the CA
    was not given the resident number and R (a CMP client that sent no EncryptedVID)."""
    value = _IdentifyData()
    value["realName"] = real_name
    value["userInfos"].clear()
    if vid is None:
        return encoder.encode(value)
    info = _UserInfo()
    info["idType"] = oids.oid(oids.VID)
    info["idValue"]["hashAlg"]["algorithm"] = oids.oid(oids.SHA256)
    info["idValue"]["virtualID"] = vid
    value["userInfos"].append(info)
    return encoder.encode(value)


def read_identify_data(certificate: x509.Certificate) -> tuple[str, bytes]:
    """(real name, VID) from the certificate's subjectAltName; ValueError when it has none."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise ValueError("the certificate has no subjectAltName") from None
    for other in names.get_values_for_type(x509.OtherName):
        if other.type_id.dotted_string != oids.IDENTIFY_DATA:
            continue
        try:
            value, _ = decoder.decode(other.value, asn1Spec=_IdentifyData())
        except PyAsn1Error as exc:
            raise ValueError("the certificate's identifyData is malformed") from exc
        for info in value["userInfos"]:
            if str(info["idType"]) == oids.VID:
                return str(value["realName"]), bytes(info["idValue"]["virtualID"])
    raise ValueError("the certificate carries no VID")


# --- the certificate -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    """What the profile needs of the issuing CA."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey
    base_url: str  # CRL at <base>/crl, OCSP at <base>/ocsp, CPS at <base>/cps


def one_year_after(start: datetime) -> datetime:
    try:
        return start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        return start.replace(year=start.year + 1, day=28)


def build_certificate(
    issuer: Issuer,
    subject: x509.Name,
    public_key: rsa.RSAPublicKey,
    serial: int,
    real_name: str,
    vid: bytes | None,
    not_before: datetime,
    not_after: datetime,
) -> x509.Certificate:
    """Sign a subscriber certificate with the yessign banking profile."""
    issuer_cert = issuer.certificate
    issuer_ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.AuthorityKeyIdentifier(
                key_identifier=issuer_ski.digest,
                authority_cert_issuer=[x509.DirectoryName(issuer_cert.issuer)],
                authority_cert_serial_number=issuer_cert.serial_number,
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_key_usage(), critical=True)
        .add_extension(_policies(issuer.base_url), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.OtherName(x509.ObjectIdentifier(oids.IDENTIFY_DATA), identify_data(real_name, vid)),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(f"{issuer.base_url}/crl")],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(f"{issuer.base_url}/ocsp"),
                    )
                ]
            ),
            critical=False,
        )
    )
    return builder.sign(issuer.key, hashes.SHA256())


def _key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _policies(base_url: str) -> x509.CertificatePolicies:
    return x509.CertificatePolicies(
        [
            x509.PolicyInformation(
                x509.ObjectIdentifier(oids.POLICY_BANKING_PERSONAL),
                [f"{base_url}/cps", x509.UserNotice(notice_reference=None, explicit_text=USER_NOTICE)],
            )
        ]
    )


"""The CMP adapter of the CertificateAuthority port: a real CA over RFC 4210 CMP on HTTP (docs/cmp.md).

`client` speaks the protocol, `messages` builds and reads its ASN.1, `registration` is the bank's agent
that hands out reference numbers, `encrypted_vid` wraps the VID for the CA's key-encryption certificate."""

from kiosk.pki.cmp.client import CmpCA, CmpConfig, HttpTransport, fetch_crl, probe

__all__ = ["CmpCA", "CmpConfig", "HttpTransport", "fetch_crl", "probe"]

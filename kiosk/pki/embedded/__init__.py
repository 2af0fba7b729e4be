"""The embedded adapter of the CertificateAuthority port: a two-level CA whose keys live encrypted under
the data directory, for demo kiosks and tests (`kiosk init`, `kiosk ca`)."""

from kiosk.pki.embedded.ca import (
    CRL_FILE,
    FILES,
    ISSUING_CERTIFICATE,
    ROOT_CERTIFICATE,
    CaSummary,
    EmbeddedCA,
    Profile,
    utcnow,
)

__all__ = ["CRL_FILE", "FILES", "ISSUING_CERTIFICATE", "ROOT_CERTIFICATE", "CaSummary", "EmbeddedCA", "Profile",
           "utcnow"]

"""Certificates: keys and R, the NPKI certificate profile, the signPri.key codec, the bundle layout,
the CertificateAuthority port with its embedded adapter, and the registry of issued certificates.

Nothing here imports Flask: the journey calls `kiosk.pki.issuance.IssuanceService`, technicians reach it
through `kiosk selftest` and `kiosk ca`.
"""

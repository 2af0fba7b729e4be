"""Certificates: keys and R, the NPKI certificate profile, the signPri.key codec, the bundle laid out
in the NPKI folders (hardware.npki), the password rules, the resident number and VID, the
CertificateAuthority port with its two adapters (the embedded CA, `embedded/`; a real CA over CMP,
`cmp/`) and the registry of issued certificates; and what a customer's stick holds: each certificate's
status (`inspection`) and the certificate a customer brings, unlocked and re-protected (`held`).

Nothing here imports Flask: the journey calls `kiosk.pki.issuance.IssuanceService` and reads sticks
through `held` and `inspection`; technicians reach it through `kiosk selftest` and `kiosk ca`.
"""

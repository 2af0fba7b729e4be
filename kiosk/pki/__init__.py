"""Certificates: keys and the VID's random R, the NPKI certificate profile, the signPri.key codec, the
bundle layout, the RRN and VID rules; the CertificateAuthority port (`ca.py`) with its two adapters, the
embedded CA (`embedded/`, asked over CMP on loopback) and a real CA over CMP (`cmp/`); the issuance
service and the registry of issued certificates; what a customer's stick holds (`inspection.py`) and the
certificate a customer brings (`held.py`). The PKI is told only `PkiSettings` (`config.py`).

Nothing here imports Flask: the journey calls `kiosk.pki.issuance.IssuanceService` and reads sticks
through `held` and `inspection`; technicians reach it through `kiosk selftest` and `kiosk ca`.
"""

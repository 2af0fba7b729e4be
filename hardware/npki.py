"""Where a certificate lives on a customer's stick: the NPKI folder layout Korean banking software looks
for, `NPKI/<CA folder>/USER/<subject DN>/signCert.der` and `signPri.key`. The one place the layout is
written, for both the bundle the kiosk lays out (kiosk.pki.bundle) and the walk that reads a stick
(hardware.read); each name in it is a FAT name (hardware.names)."""

from __future__ import annotations

ROOT = "NPKI"            # at the top of the stick
USER = "USER"            # inside each CA's folder: one folder per certificate, named after its subject
CERT_FILE = "signCert.der"
KEY_FILE = "signPri.key"  # the encrypted private key (PKCS#8, SEED)


def certificate_folder(ca_folder: str, subject: str) -> str:
    """`NPKI/<ca_folder>/USER/<subject>`, relative to the stick's root, with `/`."""
    return "/".join((ROOT, ca_folder, USER, subject))

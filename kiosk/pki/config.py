"""What the PKI is told of the kiosk's configuration, and nothing more: the app's `Settings` hands these
over (`Settings.pki`), so that the PKI never sees the web's secrets or the drives' backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class CmpSettings:
    """The KIOSK_CMP_* values as configured; the certificate files are read by `CmpConfig`."""

    url: str = ""
    ca_certs: str = ""
    kek_cert: str = ""
    crl_url: str = ""
    ra: str = "demo"
    ra_url: str = ""
    timeout_seconds: float = 30
    retries: int = 2
    total_timeout_seconds: float = 300
    bank_code: str = "KPB"

    def missing(self) -> str:
        """What KIOSK_CA=cmp lacks, as a sentence naming each variable; empty when nothing is missing."""
        missing = [name for name, value in (
            ("KIOSK_CMP_URL", self.url),
            ("KIOSK_CMP_CA_CERTS", self.ca_certs),
            ("KIOSK_CMP_KEK_CERT", self.kek_cert),
        ) if not value]
        return f"KIOSK_CA=cmp needs {', '.join(missing)} (docs/cmp.md)" if missing else ""


@dataclass(frozen=True)
class PkiSettings:
    """Which CA adapter issues (`embedded` under `ca_dir`, or `cmp`), and what goes into a certificate."""

    ca_backend: str
    ca_dir: Path
    ca_passphrase: str = field(repr=False)
    ca_folder: str = "yessign"
    bank_code: str = "KPB"
    institution_code: str = "11"
    pki_base_url: str = "http://127.0.0.1:8080/pki"
    renewal_window_days: int = 30  # 갱신 opens this many days before expiry (some CAs open it 60-90)
    cmp: CmpSettings = field(default_factory=CmpSettings)

"""What the PKI is told of the kiosk's configuration, and nothing more, so that the PKI never sees the web's
secrets or the drives' backend. `Settings.pki` builds these from each setting's one declaration
(kiosk/settings.py); they have no defaults of their own, so that no caller can silently forget one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path


@dataclass(frozen=True)
class CmpSettings:
    """The KIOSK_CMP_* values as configured; the certificate files are read by `CmpConfig`."""

    url: str
    ca_certs: str
    kek_cert: str
    crl_url: str
    ra: str
    ra_url: str
    timeout_seconds: float
    retries: int
    total_timeout_seconds: float
    bank_code: str

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
    """Which CA issues (`embedded`: the CA under `ca_dir`, asked over CMP at `ca_listen`; or `cmp`, a
    real CA), and what goes into a certificate."""

    ca_backend: str
    ca_dir: Path
    ca_passphrase: str = field(repr=False)
    ca_listen: str  # KIOSK_CA=embedded: where the embedded CA's CMP responder answers
    ca_folder: str
    bank_code: str
    institution_code: str
    pki_base_url: str
    renewal_window_days: int  # 갱신 opens this many days before expiry (some CAs open it 60-90)
    cmp: CmpSettings

    @property
    def renewal_window(self) -> timedelta:
        return timedelta(days=self.renewal_window_days)

"""KIOSK_CA=embedded: the kiosk asks the embedded CA's own process (`kiosk ca serve`, unit
cert-kiosk-ca.service) over CMP on loopback, exactly as it asks a bank's CA; one road to any CA.

The kiosk reads only what the CA publishes in its directory: chain.pem (the issuing CA, then the root;
the issuing certificate is also the KEK of the EncryptedVID) and crl.der. The keys and the ledger are the
CA process's alone (docs/security.md)."""

from __future__ import annotations

import time
from typing import Callable

from cryptography import x509

from kiosk.pki.cmp.client import CmpCA, CmpConfig, HttpTransport
from kiosk.pki.cmp.registration import RegistrationAgent
from kiosk.pki.config import PkiSettings
from kiosk.pki.errors import CaNotInitialised

CHAIN_FILE = "chain.pem"
CRL_FILE = "crl.der"


def local_url(listen: str) -> str:
    return f"http://{listen}/"


class LocalCA(CmpCA):
    """The CMP adapter bound to the embedded CA's responder; its certificates are read on first use, so
    a kiosk starts (and says what is missing) before `kiosk init` created the CA."""

    def __init__(self, settings: PkiSettings, agent: RegistrationAgent,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic):
        self._settings = settings
        self._config: CmpConfig | None = None
        self.agent = agent
        self.transport = HttpTransport(local_url(settings.ca_listen), settings.cmp.timeout_seconds,
                                       settings.cmp.retries, sleep)
        self._sleep = sleep
        self._monotonic = monotonic

    def __repr__(self) -> str:
        return f"LocalCA({self.transport.url!r})"

    @property
    def config(self) -> CmpConfig:
        if self._config is None:
            path = self._settings.ca_dir / CHAIN_FILE
            try:
                chain = tuple(x509.load_pem_x509_certificates(path.read_bytes()))
            except (OSError, ValueError):
                raise CaNotInitialised(f"no embedded CA certificates in {path}: run `kiosk init`") from None
            cmp = self._settings.cmp
            self._config = CmpConfig(
                url=self.transport.url, ca_certificates=chain, kek_certificate=chain[0],
                bank_code=self._settings.bank_code, timeout=cmp.timeout_seconds, retries=cmp.retries,
                total_timeout=cmp.total_timeout_seconds)
        return self._config

    def crl_der(self) -> bytes:
        """The CRL the CA process publishes in its directory (it refreshes it before nextUpdate)."""
        path = self._settings.ca_dir / CRL_FILE
        try:
            return path.read_bytes()
        except OSError:
            raise CaNotInitialised(f"no CRL at {path}: run `kiosk init`, start `kiosk ca serve`") from None

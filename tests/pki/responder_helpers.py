"""The embedded CA's CMP responder (`kiosk.pki.cmp.server`) on a free loopback port, for the tests: the
real HTTP server of `kiosk ca serve`, on the test's copy of the demo CA."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

from kiosk.pki.cmp import CmpCA, CmpConfig
from kiosk.pki.cmp.registration import DemoRegistrationAgent
from kiosk.pki.cmp.server import CmpResponder, SecretBook
from kiosk.pki.cmp.serving import CmpHttpServer
from kiosk.pki.embedded import EmbeddedCA


@dataclass
class Responder:
    ca: EmbeddedCA
    responder: CmpResponder
    server: CmpHttpServer

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def issuing(self) -> x509.Certificate:
        return self.responder.issuing

    @property
    def root(self) -> x509.Certificate:
        return self.responder.root

    def config(self, **overrides) -> CmpConfig:
        values = dict(url=self.url, ca_certificates=(self.issuing, self.root), kek_certificate=self.issuing,
                      bank_code="KPB", timeout=10, retries=0, total_timeout=30)
        values.update(overrides)
        return CmpConfig(**values)

    def client(self, transport=None, **overrides) -> CmpCA:
        return CmpCA(self.config(**overrides), DemoRegistrationAgent(), transport, sleep=lambda s: None)


def start_responder(ca: EmbeddedCA, hold_seconds: float = 0) -> Responder:
    responder = CmpResponder(ca, SecretBook(DemoRegistrationAgent()), hold_seconds=hold_seconds)
    return Responder(ca, responder, CmpHttpServer(responder).start())

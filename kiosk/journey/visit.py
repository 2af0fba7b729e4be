"""One customer's visit: where they are in the journey and what they have proven so far.

Everything secret about the customer lives here, in memory, for the few minutes of the visit: the
resident number (needed for the VID), the certificate password, the e-mail code and the prepared bundle.
`wipe` drops every reference when the visit ends; what Python can and cannot overwrite is written down in
docs/security.md ("What is wiped").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from kiosk.identity import Customer, WithdrawalAccount
from kiosk.journey.email_code import EmailChallenge
from kiosk.journey.machine import Journey
from kiosk.journey.stick import Stick
from kiosk.pki.inspection import CertificateOnStick
from kiosk.pki.issuance import PreparedCertificate
from kiosk.pki.keyfile import NpkiPrivateKey

if TYPE_CHECKING:  # both import the journey's types; neither is needed to build a visit
    from kiosk.idcard.reading import CardReading
    from kiosk.journey.receipt_desk import Channel

STAGES = ("prepare", "write", "verify", "eject")


@dataclass
class IssuingRun:
    """What the issuing screen shows: each stage's state, and how it ended."""

    stages: dict[str, str] = field(default_factory=lambda: {s: "waiting" for s in STAGES})
    finished: bool = False
    error: str | None = None          # a DriveError code, a PkiError code ("issuance_failed", ...), or None
    ejected: bool = False
    # 인증서 복사: the other certificate the copy would replace on the chosen stick, so nothing was written
    # and the drive step asks first
    replacing: CertificateOnStick | None = None

    def mark(self, stage: str, state: str) -> None:
        self.stages[stage] = state

    @property
    def writing(self) -> bool:
        return self.stages["write"] == "active"


@dataclass(frozen=True)
class Revocation:
    """What 인증서 폐지 revoked, for the done screen's receipt line: `on_crl` when the CA's CRL, read back
    in the same visit, lists the serial (`crl_number`, `crl_time`: that CRL's number and thisUpdate)."""

    serial: str
    common_name: str
    issuer_name: str
    on_crl: bool
    crl_number: int | None
    crl_time: datetime | None


@dataclass
class Visit:
    journey: Journey = field(default_factory=Journey)
    customer: Customer | None = None
    rrn: str = field(default="", repr=False)
    challenge: EmailChallenge | None = None
    password: str = field(default="", repr=False)
    replaces: str | None = None
    renews: str | None = None
    drive_id: str | None = None
    prepared: PreparedCertificate | None = None
    delivered_serial: str | None = None
    revoked: Revocation | None = None
    run: IssuingRun | None = None
    replace_agreed: tuple[str, str] | None = None  # (drive id, serial): the copy may replace that one there
    stick: Stick | None = None          # what the check or source step read from the customer's stick
    receipts: set[Channel] = field(default_factory=set)   # what the customer already got
    source: CertificateOnStick | None = field(default=None, repr=False)  # the one the service starts from
    opened: NpkiPrivateKey | None = field(default=None, repr=False)      # its key, decrypted
    worker: threading.Thread | None = field(default=None, repr=False)
    ended: bool = False                 # the session ended (reset, idle, staff) while issuing ran
    # the identity step by camera (issue 25): what the card gave, awaiting the customer's confirmation
    # (the picture itself is never kept), how the step is shown, and the captures so far (their
    # monotonic times, for the rate limit; the failed reads, for the way to the keyboard)
    reading: CardReading | None = field(default=None, repr=False)
    identity_by: str = "camera"         # "camera" or "keyboard"
    captures: list[float] = field(default_factory=list, repr=False)
    capture_failures: int = 0
    accounts: list[WithdrawalAccount] | None = field(default=None, repr=False)   # the directory's list
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def wipe(self) -> None:
        self.password = ""
        if self.challenge:
            self.challenge.wipe()
        self.rrn = ""
        self.reading = None
        self.accounts = None
        self.customer = None
        self.prepared = None
        self.stick = None
        self.source = None
        self.opened = None

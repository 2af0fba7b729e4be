"""One customer's visit: where they are in the journey and what they have proven so far.

Everything secret about the customer lives here, in memory, for the few minutes of the visit: the
resident number (needed for the VID), the certificate password, the e-mail code and the prepared bundle.
`wipe` drops every reference when the visit ends; what Python can and cannot overwrite is written down in
docs/security.md ("What is wiped").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from kiosk.identity import Customer
from kiosk.journey.email_code import EmailChallenge
from kiosk.journey.machine import Journey

STAGES = ("prepare", "write", "verify", "eject")


@dataclass
class IssuingRun:
    """What the issuing screen shows: each stage's state, and how it ended."""

    stages: dict = field(default_factory=lambda: {s: "waiting" for s in STAGES})
    finished: bool = False
    error: str | None = None          # a DriveError code, a PkiError code ("issuance_failed", ...), or None
    ejected: bool = False
    # 인증서 복사: the other certificate the copy would replace on the chosen stick, so nothing was written
    # and the drive step asks first (a kiosk.pki.inspection.CertificateOnStick)
    replacing: object | None = None

    def mark(self, stage: str, state: str) -> None:
        self.stages[stage] = state

    @property
    def writing(self) -> bool:
        return self.stages["write"] == "active"


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
    prepared: object | None = None      # kiosk.pki.issuance.PreparedCertificate
    delivered_serial: str | None = None
    revoked: object | None = None       # kiosk.journey.flow.Revocation: what 인증서 폐지 revoked
    run: IssuingRun | None = None
    replace_agreed: tuple | None = None  # (drive id, serial): the copy may replace that certificate there
    stick: list | None = None           # kiosk.pki.inspection.CertificateOnStick, what "check" read
    stick_truncated: bool = False
    receipts: set = field(default_factory=set)   # kiosk.journey.receipt_desk.Channel: what the customer already got
    stick_drive: str | None = None      # the stick `stick` was read from
    held: dict = field(default_factory=dict, repr=False)  # folder -> kiosk.pki.held.HeldCertificate
    source: object | None = field(default=None, repr=False)   # the HeldCertificate the service starts from
    opened: object | None = field(default=None, repr=False)   # its key, decrypted (kiosk.pki.keyfile)
    worker: threading.Thread | None = field(default=None, repr=False)
    ended: bool = False                 # the session ended (reset, idle, staff) while issuing ran
    # the identity step by camera (issue 25): what the card gave, awaiting the customer's confirmation
    # (kiosk.idcard.CardReading; the picture itself is never kept), how the step is shown, and the
    # captures so far (their times, for the rate limit; the failed reads, for the way to the keyboard)
    reading: object | None = field(default=None, repr=False)
    identity_by: str = "camera"         # "camera" or "keyboard"
    captures: list = field(default_factory=list, repr=False)
    capture_failures: int = 0
    accounts: list | None = field(default=None, repr=False)   # WithdrawalAccount, the directory's list
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
        self.held = {}
        self.source = None
        self.opened = None

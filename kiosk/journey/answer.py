"""The flow's one answer to a view: what happened (`Outcome`), and the one number or code the customer is
told with it. Every step of every service answers in this shape, so a view reads `answer.ok`, shows the
words for `answer.outcome` and never catches the flow's exceptions (a drive's or a CA's failure is an
outcome here, with its reason code beside it)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Outcome(str, Enum):
    OK = "ok"
    NOT_FOUND = "not_found"     # the directory does not know the customer; the stick no longer holds it
    LOCKED = "locked"
    WRONG = "wrong"             # a wrong PIN, e-mail code or certificate password (`tries_left` beside it)
    UNAVAILABLE = "unavailable"
    NOT_USABLE = "not_usable"   # not one of the choices offered (`reason` says why, when it can)
    DAMAGED = "damaged"         # its key file cannot be read, or belongs to another certificate
    WEAK = "weak"               # a renewal keeps the password, and this one fails today's rules
    ENDED = "ended"             # the visit ended (idle, staff) while the kiosk was busy for it
    ID_MISMATCH = "id_mismatch"         # the authenticity service does not know this card so
    ID_LOST = "id_lost"                 # ...knows it as reported lost or stolen
    ID_CHECK_UNAVAILABLE = "id_check_unavailable"   # ...did not answer
    EXPIRED = "expired"                 # the e-mail code's three minutes are over
    TOO_MANY_TRIES = "too_many_tries"   # the e-mail code was typed wrong too often: a new one is needed
    DRIVE_FAILED = "drive_failed"       # the stick could not be read or written (`reason`: DriveError.code)
    CA_FAILED = "ca_failed"             # the CA did not do it (`reason`: PkiError.code)


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    tries_left: int | None = None   # WRONG: how many tries the customer has left
    reason: str | None = None       # DRIVE_FAILED, CA_FAILED, NOT_USABLE: the code the screen explains

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


OK = Answer(Outcome.OK)

"""Which step may follow which. A step is reachable only once every step before it succeeded; a URL
typed out of order, the back button or a replayed POST is answered with the step the customer is
actually on, and a step already completed is never done twice.

New issuance:  service → consent → identity → account → email → password → drive → issuing → done
Reissue adds `replace` (choose the certificate to replace) after `email`.
Renewal (갱신) has `source` there instead (the certificate on the stick, and its current password) and no
`password`: the new key is protected with the password the customer just proved.
Password change:  service → source → password → drive → issuing → done   (no CA: the key is re-protected)
Copy:             service → source → drive → issuing → done              (the same files, another stick)
Check (내 인증서 확인): service → check (pick a stick, read what it holds; as often as the customer likes).
Revoke (인증서 폐지, a lost certificate): service → consent → identity → account → email → revoke → done;
`revoke` lists the customer's certificates from the registry (no stick needed), asks to confirm, has the
CA revoke it (CMP rr) and reads the CA's CRL back in the same visit.

Where the certificate goes back to the stick it came from (renewal, password change), `drive` is completed
for the customer with that stick; it is shown only when that stick cannot be written or a write failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Step(str, Enum):
    SERVICE = "service"
    CONSENT = "consent"
    IDENTITY = "identity"
    ACCOUNT = "account"
    EMAIL = "email"
    REPLACE = "replace"
    PASSWORD = "password"
    DRIVE = "drive"
    ISSUING = "issuing"
    DONE = "done"
    CHECK = "check"
    SOURCE = "source"
    REVOKE = "revoke"


class Service(str, Enum):
    NEW = "new"
    REISSUE = "reissue"
    RENEW = "renew"
    CHECK = "check"
    CHANGE_PASSWORD = "change_password"
    COPY = "copy"
    REVOKE = "revoke"

    @property
    def signs(self) -> bool:
        """The CA signs a new certificate (the others rewrite or copy the customer's own)."""
        return self in (Service.NEW, Service.REISSUE, Service.RENEW)


class StepNotAllowed(Exception):
    """The customer asked for a step they cannot be on; `.current` is where they belong."""

    def __init__(self, current: Step):
        super().__init__(current.value)
        self.current = current


_NEW = [Step.SERVICE, Step.CONSENT, Step.IDENTITY, Step.ACCOUNT, Step.EMAIL, Step.PASSWORD,
        Step.DRIVE, Step.ISSUING, Step.DONE]
_REISSUE = _NEW[:5] + [Step.REPLACE] + _NEW[5:]
_RENEW = _NEW[:5] + [Step.SOURCE, Step.DRIVE, Step.ISSUING, Step.DONE]
_CHECK = [Step.SERVICE, Step.CHECK]
_CHANGE_PASSWORD = [Step.SERVICE, Step.SOURCE, Step.PASSWORD, Step.DRIVE, Step.ISSUING, Step.DONE]
_COPY = [Step.SERVICE, Step.SOURCE, Step.DRIVE, Step.ISSUING, Step.DONE]
_REVOKE = _NEW[:5] + [Step.REVOKE, Step.DONE]
_STEPS = {Service.NEW: _NEW, Service.REISSUE: _REISSUE, Service.RENEW: _RENEW, Service.CHECK: _CHECK,
          Service.CHANGE_PASSWORD: _CHANGE_PASSWORD, Service.COPY: _COPY, Service.REVOKE: _REVOKE}


@dataclass
class Journey:
    service: Service | None = None
    completed: list[Step] = field(default_factory=list)

    @property
    def steps(self) -> list[Step]:
        return _STEPS.get(self.service, _NEW)

    @property
    def current(self) -> Step:
        for step in self.steps:
            if step not in self.completed:
                return step
        return Step.DONE

    def position(self, step: Step | None = None) -> tuple[int, int]:
        """(n, total) for the progress indicator, counting the steps the customer sees."""
        step = step or self.current
        visible = [s for s in self.steps if s is not Step.ISSUING]
        index = visible.index(step) if step in visible else len(visible) - 2
        return index + 1, len(visible)

    def can_enter(self, step: Step) -> bool:
        """Only the current step: what is done stays done (the customer starts over to change it)."""
        return step is self.current

    def require(self, step: Step) -> None:
        if not self.can_enter(step):
            raise StepNotAllowed(self.current)

    def complete(self, step: Step) -> None:
        """Mark the current step done. A replayed POST for a step already done raises StepNotAllowed,
        which the view answers with the current step: nothing is done twice."""
        self.require(step)
        self.completed.append(step)

    def choose(self, service: Service) -> None:
        self.require(Step.SERVICE)
        self.service = service
        self.complete(Step.SERVICE)

    def reopen(self, step: Step) -> None:
        """Go back to `step` (for example another drive after a failed write): it and what follows
        it are no longer complete."""
        if step not in self.completed:
            return
        self.completed = self.completed[: self.completed.index(step)]

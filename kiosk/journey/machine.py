"""Which step may follow which. A step is reachable only once every step before it succeeded; a URL
typed out of order, the back button or a replayed POST is answered with the step the customer is
actually on, and a step already completed is never done twice.

New issuance:  service → consent → identity → account → email → password → drive → issuing → done
Reissue adds `replace` (choose the certificate to replace) after `email`.
Check (내 인증서 확인): service → check (pick a stick, read what it holds; as often as the customer likes).
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


class Service(str, Enum):
    NEW = "new"
    REISSUE = "reissue"
    CHECK = "check"


class StepNotAllowed(Exception):
    """The customer asked for a step they cannot be on; `.current` is where they belong."""

    def __init__(self, current: Step):
        super().__init__(current.value)
        self.current = current


_NEW = [Step.SERVICE, Step.CONSENT, Step.IDENTITY, Step.ACCOUNT, Step.EMAIL, Step.PASSWORD,
        Step.DRIVE, Step.ISSUING, Step.DONE]
_REISSUE = _NEW[:5] + [Step.REPLACE] + _NEW[5:]
_CHECK = [Step.SERVICE, Step.CHECK]
_STEPS = {Service.NEW: _NEW, Service.REISSUE: _REISSUE, Service.CHECK: _CHECK}


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

"""What the kiosk keeps of an outcome, written in one place: the audit row (permanent, what the staff
console counts), the fleet's counter that moves with it (kiosk.metrics), and the step the journey reached.
Every part of the flow records through one `Record`, so an audited action can never miss its counter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.journey.machine import Step
from kiosk.metrics import KioskMetrics
from kiosk.store.audit import AuditLog

if TYPE_CHECKING:  # the visit's module imports the parts' data types
    from kiosk.journey.visit import Visit


@dataclass
class Record:
    audit: AuditLog | None
    metrics: KioskMetrics

    def customer(self, action: str, subject: str | None = None, detail: str = "", **labels: str) -> None:
        """One audit row for something a customer did and, for the actions the staff console counts, its
        counter."""
        if self.audit is not None:
            self.audit.record("customer", action, subject, detail)
        self.metrics.audited(action, **labels)

    def system(self, action: str, detail: str, **labels: str) -> None:
        """The same for what the kiosk did on its own (a session it ended)."""
        if self.audit is not None:
            self.audit.record("system", action, detail=detail)
        self.metrics.audited(action, **labels)

    def reached(self, step: Step) -> None:
        self.metrics.steps_reached.labels(step.value).inc()

    def complete(self, visit: Visit, step: Step) -> None:
        """`step` done: the journey moves on, and the fleet counts the step it reached."""
        visit.journey.complete(step)
        self.reached(visit.journey.current)

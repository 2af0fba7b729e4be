"""The customer's journey as a small state machine in plain Python (no Flask)."""

from kiosk.journey.machine import Journey, Service, Step, StepNotAllowed

__all__ = ["Journey", "Service", "Step", "StepNotAllowed"]

"""The customer's journey in plain Python (no Flask): the step machine, the visit, and the flow in its
parts (kiosk.journey.flow says which part does what), each step answered with one `Answer`."""

from kiosk.journey.machine import Journey, Service, Step, StepNotAllowed

__all__ = ["Journey", "Service", "Step", "StepNotAllowed"]

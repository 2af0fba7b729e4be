"""Step routing: which step's page the customer sees, at which URL, and how it is sent.

Every step has its own URL (`/journey/<step>`). A GET or POST for a step the customer is not on is
answered with the step they are on (a typed URL, the back button, a replayed POST, a double tap): the
views guard their handlers with `in_step`, and move the customer on with `go_to`. Each step's page is a
view function registered here with `@page(step)` (kiosk/web/views/customer.py, camera.py): the one table
from a step to what shows it. The order of the steps is the journey's (kiosk/journey/machine.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from flask import make_response, redirect, render_template, request, session, url_for

from kiosk.journey import Step, StepNotAllowed
from kiosk.journey.visit import Visit
from kiosk.web.base import same_for_everyone, screen_only
from kiosk.web.sessions import VISIT

PAGES: dict[Step, Callable] = {}  # a step → its page, `page(visit)`; filled by `@page(step)`


def page(step: Step):
    """The decorated view function shows `step` as this visit stands (the step's GET, and `go_to`)."""

    def register(view: Callable) -> Callable:
        PAGES[step] = view
        return view

    return register


def current_visit() -> Visit | None:
    return session.get(VISIT)


def step_url(step: Step) -> str:
    return url_for("customer.step", name=step.value)


def may_show(visit: Visit, step: Step) -> bool:
    """The customer may see `step` now (the done screen stays once the certificate was delivered)."""
    return visit.journey.can_enter(step) or (step is Step.DONE and bool(visit.delivered_serial))


def show(visit: Visit, step: Step):
    """`step`'s page, or the step the customer is on if they may not see `step`."""
    if not may_show(visit, step):
        return go_to(visit.journey.current)
    return PAGES[step](visit)


def go_to(step: Step):
    """Send the customer to `step`. A form posted by htmx to swap #screen gets the step at once, its URL
    pushed with HX-Push-Url: one round trip instead of a redirect and a GET (bench/tap.py). Everything
    else — a GET, a browser without JavaScript — is redirected (post/redirect/get)."""
    visit = current_visit()
    if request.method == "POST" and screen_only() and visit is not None and may_show(visit, step):
        return PAGES[step](visit)
    return redirect(step_url(step), code=303)


def in_step(step: Step):
    """The view runs only when the customer is on `step`; otherwise they are sent where they belong."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            visit = current_visit()
            if visit is None:
                return redirect(url_for("customer.attract"), code=303)
            with visit.lock:
                if not visit.journey.can_enter(step):
                    return go_to(visit.journey.current)
            try:
                return view(visit, *args, **kwargs)
            except StepNotAllowed as moved:
                return go_to(moved.current)

        return wrapper

    return decorator


def render_step(step: Step, status: int = 200, template: str | None = None, **context):
    visit = current_visit()
    n, total = visit.journey.position(step)
    html = render_template(template or f"customer/{step.value}.html", visit=visit, step=step, progress=(n, total),
                           **context)
    return step_response(step, html, status)


def render_first_showing(step: Step, make_context=dict, values: dict[str, str] | None = None, key: tuple = (),
                         template: str | None = None):
    """`step` as first shown, before the customer typed or chose anything on it: the same for every
    customer of the same service at the same place in the journey, so rendered once (kiosk/web/shared.py).
    `make_context` must not depend on this customer, beyond what `key` adds; this customer's short texts
    go in `values`, and the context names their places with `hole(name)`."""
    visit = current_visit()
    n, total = visit.journey.position(step)

    def render():
        return render_template(template or f"customer/{step.value}.html", visit=visit, step=step,
                               progress=(n, total), **make_context())

    html = same_for_everyone(("step", step, visit.journey.service, n, total, *key), render, values)
    return step_response(step, html)


def step_response(step: Step, html: str, status: int = 200):
    response = make_response(html, status)
    if request.headers.get("HX-Request"):
        response.headers["HX-Push-Url"] = step_url(step)
    return response


def navigate_to(path: str):
    """Tell htmx to load `path` into the screen, as a step change does (no full reload)."""
    response = make_response("", 204)
    response.headers["HX-Location"] = json.dumps(
        {"path": path, "target": "#screen", "select": "#screen", "swap": "outerHTML"})
    return response

"""Screens the same for every customer, rendered once.

A step as it is first shown (the identity form, empty; the account form; the drive step waiting for a
stick) differs from one customer to the next only in the session's CSRF token and in the secure
keypad's digit order, which must be new on every showing. Rendering it again for every customer was
nearly all of a step's server time (bench/latency.py). So such a screen is rendered once per key, with
*holes* where those values go, and each showing fills the holes: this session's token, a freshly
shuffled keypad for every keypad, and the few short texts of this customer a caller names (`values`:
the masked e-mail address and the time left on the code screen), escaped.

Whatever else a screen shows must be in its key (the caller's part: step, service, progress; and
`kiosk.web.base.same_for_everyone` adds language, modes and whole page or #screen alone). A screen with
more of one customer in it (an error message, a certificate) is never rendered through here.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Callable, Hashable

from flask import current_app, g
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from kiosk.web.keypad import secure_keypad_layout

_HOLE = "hole-7f3a-"
_HOLES = re.compile(_HOLE + "[a-z_]+")


def hole(name: str) -> str:
    """Where this customer's `name` (one of the `values` given to `render_once`) goes."""
    return _HOLE + name


CSRF_HOLE = hole("csrf")
KEYPAD_HOLE = hole("keypad")


class SharedRenders:
    """Rendered HTML by key, the least recently used dropped beyond `limit`: two languages, sixteen
    combinations of modes and every step of every service could otherwise add up, and a kiosk's
    customers use a handful of them."""

    def __init__(self, limit: int = 256):
        self.limit = limit
        self._html: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            html = self._html.get(key)
            if html is not None:
                self._html.move_to_end(key)
            return html

    def put(self, key: Hashable, html: str) -> None:
        with self._lock:
            self._html[key] = html
            self._html.move_to_end(key)
            while len(self._html) > self.limit:
                self._html.popitem(last=False)

    def __len__(self) -> int:
        return len(self._html)


def rendering_holes() -> bool:
    """Whether the render under way is a shared one (its per-customer values become holes)."""
    return g.get("_kiosk_rendering_holes", False)


def keypad_layout() -> str:
    """The secure keypad's `data-keypad-layout`: a fresh order, or the hole a showing fills with one."""
    return KEYPAD_HOLE if rendering_holes() else ",".join(secure_keypad_layout())


def render_once(key: Hashable, render: Callable[[], str], values: dict[str, str] | None = None) -> Markup:
    """`render()`'s HTML for `key`, rendered the first time only; this showing's values put in.

    `render` writes `hole(name)` for each of `values`. Inside another shared render the holes are left
    for the outer one to fill."""
    renders: SharedRenders = current_app.extensions["kiosk_shared_renders"]
    html = renders.get(key)
    if html is None:
        html = _with_holes(render)
        renders.put(key, html)
    return Markup(html) if rendering_holes() else _fill_holes(html, values or {})


def _fill_holes(html: str, values: dict[str, str]) -> Markup:
    token = str(escape(generate_csrf()))

    def fill(found: re.Match) -> str:
        if found.group() == CSRF_HOLE:
            return token
        if found.group() == KEYPAD_HOLE:
            return keypad_layout()
        return str(escape(values[found.group().removeprefix(_HOLE)]))

    return Markup(_HOLES.sub(fill, html))


def _with_holes(render: Callable[[], str]) -> str:
    outer = rendering_holes()
    g._kiosk_rendering_holes = True
    try:
        html = str(render())
    finally:
        g._kiosk_rendering_holes = outer
    # the form fields and csrf_token() wrote this session's token; it becomes the hole
    return html.replace(str(escape(generate_csrf())), CSRF_HOLE)


def init_app(app, limit: int = 256) -> None:
    app.extensions["kiosk_shared_renders"] = SharedRenders(limit)

"""Log lines in the kiosk's journald format ("drive.added device=/dev/sda1 ..."), without importing kiosk.

`hardware/` stays independent of Flask and of the kiosk package, so it logs through the standard
`logging` module on the same logger name; the kiosk's handler adds the `<N>` priority prefix.
Labels are never logged: a customer may have named the stick after themselves.
"""

from __future__ import annotations

import logging

LOGGER = logging.getLogger("cert-kiosk")


def _quote(value: object) -> str:
    text = str(value).replace("\n", " ").replace("\r", " ")
    if text == "" or any(ch in text for ch in ' "='):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def event(name: str, level: int = logging.INFO, exc_info: bool = False, **fields: object) -> None:
    """Log one event: `event("drive.added", device="/dev/sda1")`; None fields are left out."""
    parts = [name] + [f"{key}={_quote(value)}" for key, value in fields.items() if value is not None]
    LOGGER.log(level, " ".join(parts), exc_info=exc_info)

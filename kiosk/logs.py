"""Log lines that journald understands: `<N>` priority prefix, a stable event name, key=value fields.

    <4>drive.write_failed device=/dev/sda1 reason=DriveFull

`event()` is the only way the kiosk logs something a technician reads. It masks personal fields through
`kiosk.pii` and drops secrets, so no call site can leak them by naming a field.
"""

from __future__ import annotations

import logging
import sys

from kiosk.pii import MASKERS, SECRET_FIELDS

LOGGER_NAME = "cert-kiosk"

# syslog priorities, as sd-daemon(3) reads them from the start of a line
_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class JournaldFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6)
        message = record.getMessage()
        if record.exc_info:
            # the traceback goes to the technician, one journald line per frame line, same priority
            trace = self.formatException(record.exc_info)
            message += "\n" + "\n".join(f"<{priority}>  {line}" for line in trace.splitlines())
        return f"<{priority}>{message}"


def _quote(value: object) -> str:
    text = str(value).replace("\n", " ").replace("\r", " ")
    if text == "" or any(ch in text for ch in ' "='):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def format_fields(fields: dict) -> str:
    parts = []
    for name, value in fields.items():
        if value is None:
            continue
        if name in SECRET_FIELDS:
            value = "[redacted]"
        elif name in MASKERS:
            value = MASKERS[name](str(value))
        parts.append(f"{name}={_quote(value)}")
    return " ".join(parts)


def event(name: str, level: int = logging.INFO, exc_info: bool = False, **fields) -> None:
    """Log one event: `event("drive.added", device="/dev/sda1")`."""
    line = name if not fields else f"{name} {format_fields(fields)}"
    logging.getLogger(LOGGER_NAME).log(level, line, exc_info=exc_info)


def warning(name: str, **fields) -> None:
    event(name, logging.WARNING, **fields)


def error(name: str, exc_info: bool = False, **fields) -> None:
    event(name, logging.ERROR, exc_info=exc_info, **fields)


def setup(level: str = "info") -> None:
    """Install the journald handler once on the root logger (idempotent: tests call create_app often)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler.formatter, JournaldFormatter):
            break
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JournaldFormatter())
        root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # waitress logs its own queue warnings; keep them, at their priority, through our formatter
    logging.getLogger("waitress").setLevel(logging.WARNING)
    # flask_wtf logs every CSRF refusal at INFO in free text; we log it ourselves as http.csrf_failed
    logging.getLogger("flask_wtf.csrf").setLevel(logging.WARNING)

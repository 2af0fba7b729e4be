"""A check's answer, and the one way a check runs a command: both shared by the doctor and the screen."""

from __future__ import annotations

import subprocess
from dataclasses import asdict, dataclass

# every network connection and command a check makes is bounded: /healthz must answer
TIMEOUT = 5.0


@dataclass(frozen=True)
class Check:
    """What a check found: a name, ok or not, what was found, and — when it failed — the fix in the words
    of the technician's runbook (docs/operations.md)."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        """One line for the terminal: `ok   database  schema 1` or `FAIL ca  missing … → fix: …`."""
        text = f"{'ok  ' if self.ok else 'FAIL'} {self.name:<13} {self.detail}"
        return text if self.ok else f"{text}\n     fix: {self.fix}"


def run_command(command: list[str]) -> str:
    """Run a probe command; '' when it succeeded, else why not (missing tool, timeout, its stderr)."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    except FileNotFoundError:
        return f"{command[0]} is not installed"
    except subprocess.TimeoutExpired:
        return f"{command[0]} timed out"
    if result.returncode != 0:
        return (result.stderr or result.stdout).strip() or f"exit status {result.returncode}"
    return ""

"""Helpers shared by the PKI tests (constants, a hand-moved clock, bundle writing, OpenSSL)."""

from __future__ import annotations

import subprocess
from pathlib import Path

PASSWORD = "Kiosk!2580x"
RRN = "9001011234568"
OPENSSL = "/usr/bin/openssl"
LEGACY = ["-provider", "legacy", "-provider", "default"]


def write_bundle(root: Path, bundle) -> Path:
    for relative, data in bundle.files:
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root / bundle.folder


def openssl(*args, input: bytes | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([OPENSSL, *args], input=input, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result

"""The outside programs a test runs (mkfs, fusefat, chromium, lintian...): found, or the test fails with the
Debian package that brings it. Never skipped: a test that cannot run here says so."""

from __future__ import annotations

import shutil

import pytest


def require_command(name: str, package: str) -> str:
    """The program's path, on PATH or in /usr/sbin and /sbin (mkfs.vfat, losetup and blkid live there, and
    a user's PATH may lack them)."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        pytest.fail(f"{name} is not installed: `make test` installs the Debian package {package}")
    return path

"""Which build this kiosk runs, for the fleet (`kiosk_build_info` in /metrics) and the staff console:
the package's version, the git revision it was built from, and the root slot the appliance booted.

An installed kiosk has no .git: `make install` and the .deb write the revision into the installed tree
(scripts/layout.sh's payload_revision, as REVISION beside the `kiosk` package), and only a checkout asks
git. The slot is the appliance's (GRUB's `rauc.slot=` on the kernel's command line,
appliance/boot/grub.cfg); "none" on a machine that is not the A/B appliance.
"""

from __future__ import annotations

import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
CMDLINE = Path("/proc/cmdline")


@cache
def version() -> str:
    try:
        return metadata.version("cert-kiosk")
    except metadata.PackageNotFoundError:
        return "unknown"


@cache
def revision(root: Path = PACKAGE_ROOT) -> str:
    """The REVISION the installer wrote, else the checkout's git commit, else 'unknown'."""
    try:
        written = (root / "REVISION").read_text().strip()
    except OSError:
        written = ""
    if written:
        return written
    try:
        result = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root,
                                capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else "unknown"


def booted_slot(cmdline: Path = CMDLINE) -> str:
    """The root slot GRUB booted ("A", "B"), read from `rauc.slot=`; "none" without one."""
    try:
        words = cmdline.read_text().split()
    except OSError:
        return "none"
    return next((word.split("=", 1)[1] for word in words if word.startswith("rauc.slot=")), "none") or "none"

"""Which build this kiosk runs, for the fleet (`kiosk_build_info` in /metrics) and the staff console:
the package's version, the git revision it was built from, and the root slot the appliance booted.

An installed kiosk has no .git: `make install` and the .deb write the revision into the installed tree
(scripts/layout.sh's payload_revision, as REVISION beside the `kiosk` package), and only a checkout asks
git. The slot is the appliance's root partition (appliance/build-image.sh labels them rootfs-A and
rootfs-B); "none" on a machine that is not the A/B appliance.
"""

from __future__ import annotations

import os
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SYS_BLOCK = Path("/sys/dev/block")
SLOT_PARTITION = "rootfs-"


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


def image_version(os_release: Path = Path("/usr/lib/os-release")) -> str:
    """The system's version as its update bundles carry it: the appliance image's IMAGE_VERSION
    (os-release(5), written by appliance/build-image.sh); the package's version on any other machine."""
    try:
        for line in os_release.read_text(encoding="utf-8").splitlines():
            if line.startswith("IMAGE_VERSION="):
                return line.split("=", 1)[1].strip().strip('"') or version()
    except OSError:
        pass
    return version()


def booted_slot(root: Path = Path("/"), sys_block: Path = SYS_BLOCK) -> str:
    """The A/B slot holding the running root filesystem: its partition's GPT name, rootfs-A → "A". Asked
    of sysfs, not of GRUB's `rauc.slot=` on the kernel's command line: the kiosk's sandbox hides
    /proc/cmdline (ProcSubset=pid), and the partition is what was really mounted."""
    try:
        device = os.stat(root).st_dev
        uevent = (sys_block / f"{os.major(device)}:{os.minor(device)}" / "uevent").read_text()
    except OSError:
        return "none"
    names = [line.removeprefix("PARTNAME=") for line in uevent.splitlines() if line.startswith("PARTNAME=")]
    if names and names[0].startswith(SLOT_PARTITION) and names[0] != SLOT_PARTITION:
        return names[0].removeprefix(SLOT_PARTITION)
    return "none"

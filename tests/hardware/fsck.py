"""fsck.fat / fsck.exfat on an image file, standing where udisks2's `Filesystem.Check` / `Filesystem.Repair`
stand in production (hardware/udisks2.py: udisks2 runs the same tools, through libblockdev, for the
kiosk's user), for the hardware tests' mounter.
"""

from __future__ import annotations

import shutil
import subprocess

from hardware.errors import MountFailed, UnsupportedFilesystem

# -n: check only, change nothing; -a / -y: repair what can be repaired without asking
TOOLS = {"vfat": ("fsck.fat", "-n", "-a"), "exfat": ("fsck.exfat", "-n", "-y")}


def _tool(fs_type: str) -> tuple[str, str, str]:
    if fs_type not in TOOLS:
        raise UnsupportedFilesystem(f"no checker for {fs_type or 'no filesystem'}")
    name, check, repair = TOOLS[fs_type]
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        raise MountFailed(f"{name} is not installed (dosfstools, exfatprogs)")
    return path, check, repair


def check(device: str, fs_type: str, timeout: float = 120) -> bool:
    """True when the filesystem is consistent (exit 0), False when the checker found something to repair
    (exit 1: the dirty bit counts); other exits (unreadable device) raise MountFailed."""
    path, flag, _ = _tool(fs_type)
    result = subprocess.run([path, flag, device], capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode in (0, 1):
        return result.returncode == 0
    raise MountFailed(f"{path} {flag} {device}: exit {result.returncode}: {result.stderr.strip() or result.stdout[-300:]}")


def repair(device: str, fs_type: str, timeout: float = 300) -> None:
    """Repair what the checker can repair unattended (exit 0 nothing to do, 1 repaired); raises MountFailed
    when it could not."""
    path, _, flag = _tool(fs_type)
    result = subprocess.run([path, flag, device], capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode not in (0, 1):
        raise MountFailed(f"{path} {flag} {device}: exit {result.returncode}: {result.stderr.strip() or result.stdout[-300:]}")

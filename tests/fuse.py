"""Sticks made of FUSE filesystems: an image file mounted by a FUSE daemon kept in the foreground, so the
test holds the daemon's pid and the daemon *is* the stick. SIGSTOP freezes it (every access blocks, as on
a wedged USB stick), SIGKILL pulls it (blocked calls fail with ENOTCONN, as when the stick leaves the port).
This kernel has no vfat, so FAT images go through fusefat and exFAT through exfat-fuse on a loop device."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.tools import require_command


class FuseDaemon:
    def __init__(self, mountpoint: Path):
        self.mountpoint = mountpoint
        self.process: subprocess.Popen | None = None
        self.frozen = False

    def start(self, command: list[str]) -> None:
        """Run the daemon (`command` keeps it in the foreground) and wait until the mount is there. A
        dead mount a pulled stick left behind is lifted first."""
        subprocess.run(["fusermount", "-uz", str(self.mountpoint)], check=False, capture_output=True)
        self.mountpoint.mkdir(exist_ok=True)
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.ismount(self.mountpoint):
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"{Path(command[0]).name} did not mount the image")
            time.sleep(0.02)

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        if self.frozen and self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
        self.frozen = False

    def pull(self) -> None:
        """The stick leaves the port mid-operation."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.frozen = False

    def stop(self) -> None:
        """Unmount (lazily: a pulled stick's mount is dead) and wait for the daemon. Always call it: a
        frozen daemon would hang the clean-up of the test's tmp_path."""
        self.thaw()
        subprocess.run(["fusermount", "-uz", str(self.mountpoint)], check=False, capture_output=True)
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def exfat_loop_device(image: Path, size_mib: int = 16) -> str:
    """A fresh exFAT filesystem in `image`, attached to a loop device (detach it with `detach_loop`)."""
    with open(image, "wb") as f:
        f.truncate(size_mib * 1024 * 1024)
    subprocess.run([require_command("mkfs.exfat", "exfatprogs"), str(image)], check=True, capture_output=True)
    return subprocess.run([require_command("losetup", "mount"), "-f", "--show", str(image)], check=True,
                          capture_output=True, text=True).stdout.strip()


def detach_loop(loop: str) -> None:
    subprocess.run(["losetup", "-d", loop], check=False, capture_output=True)


def exfat_clean(loop: str) -> subprocess.CompletedProcess:
    """fsck.exfat -n (check only): returncode 0 when it finds nothing to repair."""
    return subprocess.run([require_command("fsck.exfat", "exfatprogs"), "-n", loop], capture_output=True,
                          text=True, check=False)

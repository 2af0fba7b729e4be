"""A demo drive whose folder is a real exFAT filesystem (mkfs.exfat on a loop device, mounted by
exfat-fuse on the demo drive's `root`): unlike fusefat it holds the Hangul DN folders the kiosk writes.
As with tests/faults/fusefat.py, the FUSE daemon is the stick: SIGSTOP freezes it, SIGKILL pulls it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.hardware.conftest import require


class ExfatStick:
    def __init__(self, tmp_path: Path, demo_root: Path, size_mib: int = 16):
        self.image = tmp_path / f"exfat-{demo_root.parent.name}.img"
        with open(self.image, "wb") as f:
            f.truncate(size_mib * 1024 * 1024)
        subprocess.run([require("mkfs.exfat", "exfatprogs"), str(self.image)], check=True, capture_output=True)
        self.loop = subprocess.run([require("losetup", "mount"), "-f", "--show", str(self.image)], check=True,
                                   capture_output=True, text=True).stdout.strip()
        self.mountpoint = demo_root
        self.process: subprocess.Popen | None = None
        self.frozen = False
        self.mount()

    def mount(self) -> None:
        """Plug the stick (back) in: a pulled one leaves a dead mount behind, lifted first."""
        subprocess.run(["fusermount", "-uz", str(self.mountpoint)], check=False, capture_output=True)
        # -d: the daemon stays in the foreground, so the test holds its pid and can pull the "stick"
        self.process = subprocess.Popen([require("mount.exfat-fuse", "exfat-fuse"), "-d", self.loop,
                                         str(self.mountpoint)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.ismount(self.mountpoint):
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail("exfat-fuse did not mount the image")
            time.sleep(0.02)

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)
        self.frozen = True

    def pull(self) -> None:
        """The stick leaves the port mid-operation: the daemon dies, blocked calls fail with ENOTCONN."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.frozen = False

    def unmount(self) -> None:
        if self.process is not None and self.frozen:
            os.kill(self.process.pid, signal.SIGCONT)
            self.frozen = False
        subprocess.run(["fusermount", "-uz", str(self.mountpoint)], check=False, capture_output=True)
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def close(self) -> None:
        self.unmount()
        subprocess.run(["losetup", "-d", self.loop], check=False, capture_output=True)

    def fsck_clean(self) -> bool:
        result = subprocess.run([require("fsck.exfat", "exfatprogs"), "-n", self.loop], capture_output=True,
                                text=True, check=False)
        return result.returncode == 0

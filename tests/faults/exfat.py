"""A demo drive whose folder is a real exFAT filesystem (mkfs.exfat on a loop device, mounted by
exfat-fuse on the demo drive's `root`): unlike fusefat it holds the Hangul DN folders the kiosk writes.
As with tests/faults/fusefat.py, the FUSE daemon is the stick: SIGSTOP freezes it, SIGKILL pulls it."""

from __future__ import annotations

from pathlib import Path

from tests.fuse import FuseDaemon, detach_loop, exfat_clean, exfat_loop_device
from tests.tools import require_command


class ExfatStick:
    def __init__(self, tmp_path: Path, demo_root: Path, size_mib: int = 16):
        self.image = tmp_path / f"exfat-{demo_root.parent.name}.img"
        self.loop = exfat_loop_device(self.image, size_mib)
        self.daemon = FuseDaemon(demo_root)
        self.mount()

    @property
    def mountpoint(self) -> Path:
        return self.daemon.mountpoint

    def mount(self) -> None:
        """Plug the stick (back) in: a pulled one leaves a dead mount behind, lifted first."""
        # -d: the daemon stays in the foreground, so the test holds its pid and can pull the "stick"
        self.daemon.start([require_command("mount.exfat-fuse", "exfat-fuse"), "-d", self.loop,
                           str(self.mountpoint)])

    def freeze(self) -> None:
        self.daemon.freeze()

    def pull(self) -> None:
        self.daemon.pull()

    def unmount(self) -> None:
        self.daemon.stop()

    def close(self) -> None:
        self.unmount()
        detach_loop(self.loop)

    def fsck_clean(self) -> bool:
        return exfat_clean(self.loop).returncode == 0

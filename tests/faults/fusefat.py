"""A demo drive whose folder is a real FAT filesystem (an image mounted by fusefat on the demo drive's
`root`), so that a fault test can freeze the "stick" (SIGSTOP its FUSE daemon: every access to it blocks,
as a wedged USB stick does) or pull it (SIGKILL the daemon: ENOTCONN, as a stick leaving the port)."""

from __future__ import annotations

from pathlib import Path

from tests.hardware.conftest import FatImage, make_fat


class FrozenStick:
    """A FAT image mounted on a demo drive's root; `freeze`, `thaw`, `pull` act on its FUSE daemon."""

    def __init__(self, tmp_path: Path, demo_root: Path, size_mib: int = 8, read_only: bool = False):
        self.image: FatImage = make_fat(tmp_path, size_mib=size_mib, name=f"fat-{demo_root.parent.name}")
        self.image.mountpoint = demo_root
        self.image.mount(read_only=read_only)

    def freeze(self) -> None:
        self.image.daemon.freeze()

    def thaw(self) -> None:
        self.image.daemon.thaw()

    def pull(self) -> None:
        self.image.daemon.pull()

    def close(self) -> None:
        """Always called (finally): a frozen daemon would hang the test's own clean-up of tmp_path."""
        self.image.unmount()

"""RAUC in the tests: bundles made the way a fleet's signer (or a stranger) makes them, with the real
`rauc` and the lab's development key (appliance/signing-key.sh), for the verdicts on the host
(tests/ops/test_update_from_stick.py, test_network_update.py) and the installs on the booted appliance
(tests/system/test_update.py); and, on the host only, a stand-in for RAUC's install service and logind,
which run only on the booted appliance."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from kiosk.updates.offer import INSTALL_DONE
from kiosk.updates.rauc import Rauc
from tests.system.appliance import REPO


def lab_signing() -> Path:
    """The directory holding the lab's key.pem and cert.pem (the image's keyring), made once per machine."""
    return Path(subprocess.run(["sh", "appliance/signing-key.sh"], cwd=REPO, capture_output=True, text=True,
                               check=True).stdout.strip().splitlines()[-1])


def small_bundle(out: Path, compatible: str, version: str) -> Path:
    """A verity bundle signed with the lab's key whose root filesystem is a small ext4 (enough for RAUC
    to read and judge it; not a system to boot)."""
    content, tree = out.parent / f"{out.stem}-content", out.parent / f"{out.stem}-tree"
    content.mkdir()
    tree.mkdir()
    (tree / "filler").write_bytes(os.urandom(256 * 1024))  # a verity bundle's squashfs must exceed 4 KiB
    subprocess.run(["mkfs.ext4", "-q", "-d", str(tree), str(content / "rootfs.ext4"), "8M"], check=True,
                   capture_output=True)
    (content / "manifest.raucm").write_text(f"[update]\ncompatible={compatible}\nversion={version}\n\n"
                                            "[bundle]\nformat=verity\n\n[image.rootfs]\nfilename=rootfs.ext4\n")
    signing = lab_signing()
    subprocess.run(["rauc", "bundle", f"--cert={signing / 'cert.pem'}", f"--key={signing / 'key.pem'}",
                    str(content), str(out)], check=True, capture_output=True)
    return out


def signed_by_a_stranger(bundle: Path, out: Path) -> Path:
    """The same bundle re-signed with a key and certificate the appliance's keyring does not hold: what
    anyone who is not the fleet's signer can make."""
    key, cert = out.parent / f"{out.stem}.key.pem", out.parent / f"{out.stem}.cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "365", "-keyout", str(key), "-out", str(cert),
                    "-subj", "/O=not the fleet/CN=stranger"], check=True, capture_output=True)
    # rauc resign wants a keyring even when told not to verify the input against it
    subprocess.run(["rauc", "resign", "--no-verify", f"--keyring={cert}", f"--cert={cert}", f"--key={key}",
                    str(bundle), str(out)], check=True, capture_output=True)
    return out


def truncated(bundle: Path, out: Path, size: int) -> Path:
    """The bundle's first `size` bytes: a copy cut short (a download or a copy onto a stick that stopped)."""
    with bundle.open("rb") as source, out.open("wb") as target:
        target.write(source.read(size))
    return out


class StandInForRaucsService(Rauc):
    """The real `rauc info` (inspect); install, progress and restart recorded instead of sent on D-Bus."""

    def __init__(self, conf: Path):
        super().__init__(conf)
        self.installed: list[Path] = []
        self.rebooted = False
        self.polls = 0

    def install(self, path: Path) -> None:
        assert path.exists()
        self.installed.append(path)
        self.polls = 0

    def operation(self):
        """Idle before an install; then installing for two polls, and done."""
        if not self.installed:
            return ("idle", 0, "", "")
        self.polls += 1
        return ("installing", 40, "Copying image", "") if self.polls < 3 else ("idle", 100, INSTALL_DONE, "")

    def reboot(self) -> None:
        self.rebooted = True

"""The booted lab appliance, one for the session: boots are what cost minutes under emulation, so
test_appliance.py's tests and then test_update.py's (which reboots it into slot B) share it."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.system.appliance import ARTIFACTS, OVMF_CODE, Appliance, build_image, record


@pytest.fixture(scope="session")
def appliance(tmp_path_factory):
    for tool, package in (("mmdebstrap", "mmdebstrap"), ("qemu-system-x86_64", "qemu-system-x86"),
                          ("mdir", "mtools"), ("fsck.fat", "dosfstools"), ("sfdisk", "fdisk"),
                          ("grub-mkstandalone", "grub-common"), ("rauc", "rauc"),
                          ("mksquashfs", "squashfs-tools")):
        if not (shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")):
            pytest.fail(f"{tool} is not installed: `make test` installs the Debian package {package}")
    if not Path("/usr/lib/grub/x86_64-efi/linux.mod").exists() or not OVMF_CODE.exists():
        pytest.fail("GRUB's x86_64-efi modules or OVMF are missing: `make test` installs grub-efi-amd64-bin and ovmf")
    start = time.monotonic()
    image = build_image()
    record("image_ready_s", time.monotonic() - start)
    vm = Appliance(image, tmp_path_factory.mktemp("vm"), free_port())
    start = time.monotonic()
    vm.boot()
    try:
        vm.wait_for_agent(600)
        record("boot_to_userspace_s", time.monotonic() - start)
        vm.wait_until("systemctl is-active --quiet cert-kiosk.service", 600)
        record("boot_to_kiosk_ready_s", time.monotonic() - start)
        yield vm
    finally:
        if vm.process.poll() is None and vm._agent is not None:  # what a technician would look at
            try:
                journal = vm.run("journalctl -b --no-pager -o short-monotonic", timeout=120).out
                (ARTIFACTS / "appliance-journal.txt").write_text(journal)
                vm.screendump(ARTIFACTS / "appliance-last-screen.png")
            except (OSError, AssertionError, RuntimeError, ConnectionError) as exc:
                (ARTIFACTS / "appliance-journal.txt").write_text(f"could not read the journal: {exc}\n")
        vm.shutdown()
        consoles = sorted(vm.work.glob("console*.log"))  # every power-on's
        # a lockup restarts the guest (softlockup_panic=1) and the tests go on: the count says it happened
        record("kernel_soft_lockups_seen", sum(log.read_text(errors="replace").count("soft lockup")
                                               for log in consoles))
        for log in [*consoles, vm.work / "qemu.stderr"]:
            if log.exists():
                shutil.copy(log, ARTIFACTS / f"appliance-{log.name}")

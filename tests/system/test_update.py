"""A/B system updates with RAUC on the booted lab appliance (issue 29, phase 1): the appliance that
test_appliance.py used (tests/system/conftest.py: one boot for both) takes signed bundles from a
technician's USB stick. A bundle signed by a key outside the image's keyring is refused and leaves slots,
GRUB's environment and slot B's bytes as they were; the next version (`make bundle` with
APPLIANCE_VERSION) installs into slot B, the appliance reboots into it, the kiosk's unit marks it good
once the kiosk answers, and what the kiosk wrote on slot A's system — the certificate registry and the
hash-chained audit log on the data partition — is there and intact. One reboot for the module."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.system.appliance import REPO, Appliance, record, stick_image

STICK_LABEL = "UPDATE"
MOUNT = "/run/update-stick"
KIOSK = ("systemd-run --quiet --pipe --wait --collect -p User=cert-kiosk "
         "-p Environment='KIOSK_MODE=production KIOSK_DATA_DIR=/var/lib/cert-kiosk KIOSK_CA_DIR=/var/lib/cert-kiosk-ca/ca' "
         "-p EnvironmentFile=/etc/cert-kiosk/kiosk.env /opt/cert-kiosk/.venv/bin/kiosk")
REGISTRY = ("/opt/cert-kiosk/.venv/bin/python -c \"import sqlite3; c = sqlite3.connect("
            "'file:/var/lib/cert-kiosk/kiosk.sqlite3?mode=ro', uri=True); "
            "print(c.execute('SELECT COUNT(*) FROM certificates').fetchone()[0], "
            "c.execute('SELECT COUNT(*) FROM audit_log').fetchone()[0], "
            "c.execute('SELECT COUNT(*) FROM staff WHERE name = ?', ('update-check',)).fetchone()[0])\"")


def pyproject_version() -> str:
    for line in (REPO / "pyproject.toml").read_text().splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise AssertionError("no version in pyproject.toml")


NEXT_VERSION = pyproject_version() + "+next"


def build_bundle(version: str) -> Path:
    """`make bundle` for `version` (appliance/build-bundle.sh; cached under the image cache)."""
    built = subprocess.run(["sh", "appliance/build-bundle.sh"], cwd=REPO, capture_output=True, text=True,
                           timeout=2400, env={**os.environ, "APPLIANCE_VERSION": version})
    assert built.returncode == 0, built.stderr[-4000:]
    return Path(built.stdout.strip().splitlines()[-1])


def signed_by_a_stranger(bundle: Path, out: Path) -> Path:
    """The same bundle re-signed with a key and certificate the appliance's keyring does not hold: what
    anyone who is not the fleet's signer can make."""
    key, cert = out.parent / "stranger.key.pem", out.parent / "stranger.cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "365", "-keyout", str(key), "-out", str(cert),
                    "-subj", "/O=not the fleet/CN=stranger"], check=True, capture_output=True)
    # rauc resign wants a keyring even when told not to verify the input against it
    subprocess.run(["rauc", "resign", "--no-verify", f"--keyring={cert}", f"--cert={cert}", f"--key={key}",
                    str(bundle), str(out)], check=True, capture_output=True)
    return out


def fat_stick_with(path: Path, files: list[Path]) -> Path:
    """A technician's FAT32 stick holding `files` at its root (mtools: no loop device)."""
    size_mib = sum(file.stat().st_size for file in files) // (1024 * 1024) + 96
    stick = stick_image(path, STICK_LABEL, size_mib=size_mib)
    subprocess.run(["mcopy", "-i", f"{stick}@@1M", *map(str, files), "::/"], check=True,
                   env={**os.environ, "LC_ALL": "C.UTF-8"})
    return stick


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, str]:
    """The next version's bundle and a stranger's copy of it, on a stick plugged into the appliance and
    mounted read-only: the file names in the guest."""
    start = time.monotonic()
    bundle = build_bundle(NEXT_VERSION)
    record("bundle_ready_s", time.monotonic() - start)
    work = tmp_path_factory.mktemp("update")
    stranger = signed_by_a_stranger(bundle, work / "stranger.raucb")
    return {"next": bundle.name, "stranger": stranger.name, "_stick_dir": str(work), "_bundle": str(bundle)}


@pytest.fixture(scope="module")
def update_stick(appliance, bundles):
    work = Path(bundles["_stick_dir"])
    stick = fat_stick_with(work / "update-stick.img", [Path(bundles["_bundle"]), work / bundles["stranger"]])
    appliance.plug(stick, name="update")
    try:
        appliance.wait_until(f"test -e /dev/disk/by-label/{STICK_LABEL}", 60)
        # the kiosk reads a new FAT stick's metadata through udisks2 (OpenForBackup: an exclusive open),
        # and mount(8) says "already mounted or mount point busy" meanwhile: a moment later it mounts
        appliance.wait_until(f"mkdir -p {MOUNT} && (mountpoint -q {MOUNT} || "
                             f"mount -o ro /dev/disk/by-label/{STICK_LABEL} {MOUNT})", 60, interval=2)
        yield MOUNT
    finally:
        if appliance.run(f"mountpoint -q {MOUNT}").status == 0:
            appliance.run(f"umount {MOUNT}")
        try:
            appliance.unplug("update")
        except RuntimeError:  # the update test took it out before its reboot
            pass


def slots(appliance: Appliance) -> dict:
    """`rauc status` as JSON: the booted slot's bootname, the primary slot, and per slot its bootname,
    state, boot status and the version of the bundle it was written from (None: not written by RAUC)."""
    out = appliance.run("rauc status --detailed --output-format=json", check=True).out
    try:
        status = json.loads(out)
        return {"booted": status["booted"], "primary": status.get("boot_primary"),
                "slots": {name: {"bootname": slot.get("bootname"), "state": slot.get("state"),
                                 "boot_status": slot.get("boot_status"),
                                 "version": ((slot.get("slot_status") or {}).get("bundle") or {}).get("version")}
                          for entry in status["slots"] for name, slot in entry.items()}}
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        raise AssertionError(f"rauc status --output-format=json: unexpected shape ({exc!r}):\n{out}") from exc


def untouched(appliance: Appliance) -> dict:
    """What a refused bundle must leave as it was: RAUC's view, GRUB's environment, slot B's first MiB."""
    return {"slots": slots(appliance),
            "grubenv": appliance.run("grub-editenv /boot/efi/EFI/BOOT/grubenv list", check=True).out,
            "slot_b": appliance.run("head -c 1M /dev/disk/by-partlabel/rootfs-B | sha256sum", check=True).out}


def test_a_bundle_signed_by_another_key_is_refused_and_nothing_changes(appliance, bundles, update_stick):
    before = untouched(appliance)
    assert before["slots"]["booted"] == "A", before
    refused = appliance.run(f"rauc install {update_stick}/{bundles['stranger']}", timeout=600)
    assert refused.status != 0, refused.out
    assert "signature" in (refused.out + refused.err).lower(), refused.out + refused.err
    assert untouched(appliance) == before


def test_the_next_version_installs_into_slot_b_boots_and_keeps_the_kiosks_data(appliance, bundles, update_stick):
    """Installed from the stick, rebooted: GRUB boots slot B, the slot is marked good after the kiosk
    answers, the registry and audit log written on A are all there and the chain verifies."""
    # something written on slot A's system for certain, whatever ran before: a staff member (and its
    # audit row); test_appliance.py's issuances are in the registry too when it ran first
    appliance.run(f"{KIOSK} staff add update-check --pin 482916", check=True)
    kept_before = appliance.run(REGISTRY, check=True).out.split()
    audit_before = appliance.run(f"{KIOSK} audit verify", check=True).out
    machine_id = appliance.run("cat /etc/machine-id", check=True).out.strip()

    start = time.monotonic()
    installed = appliance.run(f"rauc install {update_stick}/{bundles['next']}", timeout=1800)
    record("bundle_install_s", time.monotonic() - start)
    assert installed.status == 0, installed.out + installed.err
    status = slots(appliance)
    assert status["primary"] == "rootfs.1", status
    assert status["slots"]["rootfs.1"]["version"] == NEXT_VERSION, status

    appliance.run(f"umount {update_stick}", check=True)
    appliance.unplug("update")
    record("update_reboot_to_userspace_s", appliance.reboot(1800))
    start = time.monotonic()
    appliance.wait_until("systemctl is-active --quiet cert-kiosk.service", 1200, interval=5)
    record("update_userspace_to_kiosk_ready_s", time.monotonic() - start)

    assert "rauc.slot=B" in appliance.run("cat /proc/cmdline", check=True).out
    release = appliance.run(". /etc/os-release && echo $IMAGE_VERSION", check=True).out.strip()
    assert release == NEXT_VERSION
    appliance.wait_until("systemctl is-active --quiet cert-kiosk-update-good.service", 1200, interval=5)
    record("update_userspace_to_marked_good_s", time.monotonic() - start)
    status = slots(appliance)
    assert status["booted"] == "B", status
    assert status["slots"]["rootfs.1"]["boot_status"] == "good", status
    assert status["slots"]["rootfs.0"]["boot_status"] == "good", status  # the way back stays open

    with urllib.request.urlopen(appliance.url + "/healthz/live", timeout=60) as answer:
        assert answer.status == 200
    assert appliance.run("cat /etc/machine-id", check=True).out.strip() == machine_id
    kept_after = appliance.run(REGISTRY, check=True).out.split()
    assert kept_after[0] == kept_before[0], (kept_before, kept_after)
    assert int(kept_after[1]) >= int(kept_before[1]), (kept_before, kept_after)
    assert kept_after[2] == "1", "the staff member added on slot A is gone"
    audit_after = appliance.run(f"{KIOSK} audit verify", check=True).out
    assert "intact" in audit_after and "intact" in audit_before, (audit_before, audit_after)

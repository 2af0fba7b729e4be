"""A/B system updates with RAUC on the booted lab appliance (issue 29): the appliance that
test_appliance.py used (tests/system/conftest.py: one boot for both) takes signed bundles from a
technician's USB stick and from the fleet's server, in this order on the one VM:
- only root's units and the staff console's install may talk to RAUC's service (the D-Bus policy);
- refused, with slots, GRUB's environment and slot B's bytes left as they were: a bundle signed by a key
  outside the image's keyring, a truncated bundle, a bundle signed by the fleet's key for another product;
- the power cut mid-install: QEMU quits while `rauc install` writes slot B; the kiosk boots on slot A;
- a version whose kiosk exits at start (`make bundle` with APPLIANCE_FAULT=kiosk-exits-at-start),
  installed as branch staff do it, through the staff console's 시스템 업데이트 (which judges every bundle on
  the stick first): it installs (which is the install after the power cut succeeding), boots once, fails
  its health gate, is marked bad, and the appliance comes back on slot A by itself;
- the next version (`make bundle` with APPLIANCE_VERSION) comes over the network: the fleet's server (on
  the host) names it in `latest`, the kiosk's network update downloads it, RAUC installs it into slot B,
  the appliance restarts itself into it, the health gate proves it, and what the kiosk wrote on slot A's
  system — the certificate registry and the hash-chained audit log on the data partition — is there and
  intact;
- three power cuts in a row right after GRUB chose the proven slot B: still slot B, no try counted.
Boots: three reboots, four power-ons."""

from __future__ import annotations

import http.client
import http.server
import json
import os
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.http_customer import Customer, walk_to_drive
from tests.rauc_bundles import signed_by_a_stranger, small_bundle, truncated
from tests.staff_console import install_form, offered_bundles, signed_in_staff
from tests.system.appliance import REPO, Appliance, record, stick_image
from tests.system.kiosk_customer import outbox_code, write_onto

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
BROKEN_VERSION = pyproject_version() + "+broken"
GRUBENV = "/boot/efi/EFI/BOOT/grubenv"


def build_bundle(version: str, fault: str = "") -> Path:
    """`make bundle` for `version` (appliance/build-bundle.sh; cached under the image cache); `fault`
    is the recipe's APPLIANCE_FAULT (a deliberately broken system, built the same way)."""
    built = subprocess.run(["sh", "appliance/build-bundle.sh"], cwd=REPO, capture_output=True, text=True,
                           timeout=2400, env={**os.environ, "APPLIANCE_VERSION": version, "APPLIANCE_FAULT": fault})
    assert built.returncode == 0, built.stderr[-4000:]
    return Path(built.stdout.strip().splitlines()[-1])


def fat_stick_with(path: Path, files: list[Path]) -> Path:
    """A technician's FAT32 stick holding `files` at its root (mtools: no loop device)."""
    size_mib = sum(file.stat().st_size for file in files) // (1024 * 1024) + 96
    stick = stick_image(path, STICK_LABEL, size_mib=size_mib)
    subprocess.run(["mcopy", "-i", f"{stick}@@1M", *map(str, files), "::/"], check=True,
                   env={**os.environ, "LC_ALL": "C.UTF-8"})
    return stick


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, Path]:
    """Every bundle the module installs or refuses, built (or taken from the cache) on the host."""
    start = time.monotonic()
    made = {"next": build_bundle(NEXT_VERSION)}
    record("bundle_ready_s", time.monotonic() - start)
    start = time.monotonic()
    made["broken"] = build_bundle(BROKEN_VERSION, fault="kiosk-exits-at-start")
    record("broken_bundle_ready_s", time.monotonic() - start)
    work = tmp_path_factory.mktemp("update")
    made["stranger"] = signed_by_a_stranger(made["next"], work / "stranger.raucb")
    made["truncated"] = truncated(made["next"], work / "truncated.raucb", 64 * 1024 * 1024)
    # signed with the fleet's own key, for a device whose compatible is not cert-kiosk-lab: RAUC refuses
    # it on the manifest, before any image
    made["other"] = small_bundle(work / "other-product.raucb", "cert-kiosk-other-product", "1")
    return made


@pytest.fixture(scope="module")
def stick_file(bundles, tmp_path_factory) -> Path:
    """The technician's stick holding every bundle (one image, plugged again after each power cut)."""
    return fat_stick_with(tmp_path_factory.mktemp("stick") / "update-stick.img", list(bundles.values()))


@pytest.fixture
def update_stick(appliance, stick_file, bundles):
    """The stick plugged in and mounted read-only; yields a bundle's path in the guest by its key."""
    appliance.plug(stick_file, name="update")
    try:
        appliance.wait_until(f"test -e /dev/disk/by-label/{STICK_LABEL}", 60)
        # the kiosk reads a new FAT stick's metadata through udisks2 (OpenForBackup: an exclusive open),
        # and mount(8) says "already mounted or mount point busy" meanwhile: a moment later it mounts
        appliance.wait_until(f"mkdir -p {MOUNT} && (mountpoint -q {MOUNT} || "
                             f"mount -o ro /dev/disk/by-label/{STICK_LABEL} {MOUNT})", 60, interval=2)
        yield {key: f"{MOUNT}/{path.name}" for key, path in bundles.items()}
    finally:
        if appliance.run(f"mountpoint -q {MOUNT}").status == 0:
            appliance.run(f"umount {MOUNT}")
        try:
            appliance.unplug("update")
        except RuntimeError:  # taken out before a reboot, or gone with a power cut
            pass


@pytest.fixture
def stick_for_the_kiosk(appliance, stick_file):
    """The stick plugged in and left to the kiosk: its drive watcher lists it, the staff console mounts it
    through udisks2 when it looks for updates."""
    appliance.plug(stick_file, name="update")
    try:
        appliance.wait_until(f"test -e /dev/disk/by-label/{STICK_LABEL}", 60)
        yield
    finally:
        try:
            appliance.unplug("update")
        except RuntimeError:  # taken out before the restart
            pass


@pytest.fixture
def update_server(bundles, tmp_path):
    """The fleet's update server: the next version's bundle and `latest` naming it, over HTTP on the host,
    which the guest reaches at 10.0.2.2 (QEMU's user network). Yields the URL the kiosk is given."""
    root = tmp_path / "fleet"
    root.mkdir()
    name = f"cert-kiosk-lab_{NEXT_VERSION}.raucb"
    (root / name).symlink_to(bundles["next"])
    (root / "latest").write_text(name + "\n")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *args: QuietFiles(*args, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://10.0.2.2:{server.server_address[1]}/"
    server.shutdown()


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
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
            "grubenv": appliance.run(f"grub-editenv {GRUBENV} list", check=True).out,
            "slot_b": appliance.run("head -c 1M /dev/disk/by-partlabel/rootfs-B | sha256sum", check=True).out}


def grubenv(appliance: Appliance) -> dict[str, str]:
    listed = appliance.run(f"grub-editenv {GRUBENV} list", check=True).out
    return dict(line.split("=", 1) for line in listed.splitlines() if "=" in line)


def booted_slot(appliance: Appliance) -> str:
    """The slot GRUB booted, as the kernel's command line says (appliance/boot/grub.cfg)."""
    words = appliance.run("cat /proc/cmdline", check=True).out.split()
    return next(word.split("=", 1)[1] for word in words if word.startswith("rauc.slot="))


def build_info(appliance: Appliance) -> str:
    """The kiosk_build_info line of the running kiosk's /metrics (its own listener, inside the guest)."""
    metrics = appliance.run("/usr/bin/python3 -c 'import urllib.request; print(urllib.request.urlopen("
                            "\"http://127.0.0.1:9108/metrics\", timeout=60).read().decode())'", check=True).out
    return next(line for line in metrics.splitlines() if line.startswith("kiosk_build_info{"))


def power_cycle(appliance: Appliance, timing: str) -> None:
    """The plug pulled and put back; waits for userspace (the guest agent) and records how long as `timing`."""
    appliance.power_cut()
    start = time.monotonic()
    appliance.power_on()
    appliance.wait_for_agent(600)
    record(timing, time.monotonic() - start)


def gate_lines(appliance: Appliance, event: str) -> list[str]:
    """The health gate's journal lines (every boot's: the journal is on the data partition) for `event`."""
    journal = appliance.run("journalctl --no-pager -o cat -u cert-kiosk-update-good.service", check=True).out
    return [line for line in journal.splitlines() if line.startswith(event + " ")]


def test_only_root_and_the_staff_consoles_install_may_talk_to_the_updater(appliance):
    """RAUC's own D-Bus policy lets every local user install and mark slots good or bad; the appliance's
    (appliance/system/rauc-policy.conf) lets root do all, the app's user start an install and read its
    progress (the staff console), and the browser's user nothing: neither can mark a slot."""
    slot_status = "busctl call de.pengutronix.rauc / de.pengutronix.rauc.Installer GetSlotStatus"
    mark = "busctl call de.pengutronix.rauc / de.pengutronix.rauc.Installer Mark ss good other"
    progress = ("busctl call de.pengutronix.rauc / org.freedesktop.DBus.Properties GetAll s "
                "de.pengutronix.rauc.Installer")
    for user, call in (("cert-kiosk-browser", slot_status), ("cert-kiosk-browser", progress),
                       ("cert-kiosk-browser", mark), ("cert-kiosk", slot_status), ("cert-kiosk", mark)):
        refused = appliance.run(f"runuser -u {user} -- {call}")
        assert refused.status != 0, (user, call, refused.out)
        assert "Rejected send message" in refused.err or "ccess denied" in refused.err, (user, refused.err)
    assert appliance.run(f"runuser -u cert-kiosk -- {progress}").status == 0
    assert appliance.run(slot_status).status == 0
    assert appliance.run("rauc status --output-format=json").status == 0


def test_a_bundle_signed_by_another_key_is_refused_and_nothing_changes(appliance, update_stick):
    before = untouched(appliance)
    assert before["slots"]["booted"] == "A", before
    refused = appliance.run(f"rauc install {update_stick['stranger']}", timeout=600)
    assert refused.status != 0, refused.out
    assert "signature" in (refused.out + refused.err).lower(), refused.out + refused.err
    assert untouched(appliance) == before


def test_a_truncated_bundle_and_one_for_another_product_are_refused_and_nothing_changes(appliance, update_stick):
    before = untouched(appliance)
    cut_short = appliance.run(f"rauc install {update_stick['truncated']}", timeout=600)
    assert cut_short.status != 0, cut_short.out
    assert untouched(appliance) == before
    foreign = appliance.run(f"rauc install {update_stick['other']}", timeout=600)
    assert foreign.status != 0, foreign.out
    assert "compatible" in (foreign.out + foreign.err).lower(), foreign.out + foreign.err
    assert untouched(appliance) == before


def test_a_power_cut_while_rauc_writes_slot_b_leaves_the_kiosk_on_slot_a(appliance, update_stick):
    """QEMU quits while `rauc install` is copying the root filesystem into slot B: RAUC had marked B
    unbootable before writing, so GRUB boots the proven slot A, and the kiosk starts there."""
    empty_b = appliance.run("head -c 1M /dev/disk/by-partlabel/rootfs-B | sha256sum", check=True).out.strip()
    appliance.run(f"systemd-run --quiet --unit=update-to-cut rauc install {update_stick['next']}", check=True)
    appliance.wait_until(f'test "$(head -c 1M /dev/disk/by-partlabel/rootfs-B | sha256sum)" != "{empty_b}"',
                         900, interval=2)
    time.sleep(10)  # well inside the copy of 2.6 GiB (minutes here)
    assert appliance.run("systemctl is-active --quiet update-to-cut.service").status == 0, "the install ended"
    assert grubenv(appliance)["B_OK"] == "0"
    power_cycle(appliance, "power_cut_to_userspace_s")
    assert booted_slot(appliance) == "A"
    env = grubenv(appliance)
    assert (env["A_OK"], env["A_TRY"], env["A_PROVEN"], env["B_OK"]) == ("1", "0", "1", "0"), env
    assert slots(appliance)["slots"]["rootfs.1"]["boot_status"] == "bad"
    record("power_cut_userspace_to_kiosk_ready_s",
           appliance.wait_until("systemctl is-active --quiet cert-kiosk.service", 600, interval=5))


def test_a_version_whose_kiosk_fails_its_health_gate_goes_back_to_slot_a_by_itself(appliance, stick_for_the_kiosk):
    """Installed as branch staff install it: signed in to the staff console, 시스템 업데이트 finds every
    bundle on the technician's stick with the kiosk's verdict on it, 설치 installs the broken version (the
    install after the power cut succeeding), the console follows it to the end, 다시 시작 restarts. GRUB
    tries it once, its health gate sees the kiosk fail to start, marks slot B bad and reboots: slot A
    again, by itself."""
    appliance.run(f"{KIOSK} staff add update-tech --pin 592817", check=True)
    staff = signed_in_staff(appliance.url, "update-tech", "592817")
    deadline = time.monotonic() + 180
    while not offered_bundles(staff.post("/staff/update/find")):  # until the kiosk has listed the stick
        assert time.monotonic() < deadline, staff.page[-3000:]
        time.sleep(5)
    assert offered_bundles(staff.page) == {
        f"cert-kiosk-lab_{BROKEN_VERSION}.raucb": "installable", f"cert-kiosk-lab_{NEXT_VERSION}.raucb": "installable",
        "stranger.raucb": "signature_refused", "truncated.raucb": "unreadable",
        "other-product.raucb": "other_device"}, staff.page[-3000:]
    assert "cert-kiosk lab development updates" in staff.page, "the signer the staff are told"

    start = time.monotonic()
    staff.post("/staff/update/install", install_form(staff.page, f"cert-kiosk-lab_{BROKEN_VERSION}.raucb"))
    assert staff.status == 200 and "설치를 시작했습니다" in staff.page, staff.page[-3000:]
    while 'data-state="installed"' not in staff.get("/staff/state"):
        assert 'data-state="failed"' not in staff.page, staff.page[-3000:]
        assert time.monotonic() - start < 900, staff.page[-3000:]
        time.sleep(5)
    record("bundle_install_after_power_cut_s", time.monotonic() - start)
    status = slots(appliance)
    assert status["primary"] == "rootfs.1" and status["slots"]["rootfs.1"]["version"] == BROKEN_VERSION, status
    assert grubenv(appliance)["B_PROVEN"] == "0"
    assert appliance.run("grep -q ' /media/cert-kiosk/' /proc/mounts").status != 0, "the stick was let go"
    assert appliance.run("ls -A /var/lib/cert-kiosk/updates", check=True).out.strip() == "", "the copy was removed"
    appliance.unplug("update")

    before = appliance.boot_id()
    start = time.monotonic()
    try:
        staff.post("/staff/update/restart")
    except (OSError, http.client.HTTPException):  # the kiosk went down before its answer was out
        pass
    seen = appliance.wait_for_new_boot(before, 600)
    if booted_slot(appliance) == "B":  # seen on B before its gate gave up: wait for the way back
        appliance.wait_for_new_boot(seen, 600)
    record("broken_update_to_back_on_a_s", time.monotonic() - start)

    assert booted_slot(appliance) == "A"
    assert len(gate_lines(appliance, "update.gate_started slot=B")) == 1, "slot B was tried more than once"
    rejected = gate_lines(appliance, "update.slot_marked_bad slot=B")
    assert len(rejected) == 1 and "kiosk_fails_to_start" in rejected[0], rejected
    env = grubenv(appliance)
    assert (env["B_OK"], env["B_PROVEN"], env["A_PROVEN"], env["A_TRY"]) == ("0", "0", "1", "0"), env
    status = slots(appliance)
    assert status["booted"] == "A" and status["slots"]["rootfs.1"]["boot_status"] == "bad", status
    appliance.wait_until("systemctl is-active --quiet cert-kiosk.service", 600, interval=5)
    info = build_info(appliance)
    assert 'slot="A"' in info and f'version="{pyproject_version()}"' in info, info


def test_the_next_version_comes_over_the_network_into_slot_b_boots_and_keeps_the_kiosks_data(appliance,
                                                                                           update_server,
                                                                                           tmp_path):
    """The fleet's server names the next version in `latest`; the kiosk's network update (started as its
    nightly timer starts it) downloads it to the data partition, RAUC installs it, the kiosk restarts
    itself with no customer at the screen: GRUB boots slot B, the slot is marked good after the kiosk
    proves itself, the registry and audit log written on A are all there and the chain verifies, so
    is the kiosk's configuration changed on A (its update server), the new slot runs read-only, the
    download is gone, and the kiosk on the new version issues a certificate onto a stick plugged in now."""
    # something written on slot A's system for certain, whatever ran before: a staff member (and its
    # audit row); test_appliance.py's issuances are in the registry too when it ran first
    appliance.run(f"{KIOSK} staff add update-check --pin 482916", check=True)
    kept_before = appliance.run(REGISTRY, check=True).out.split()
    audit_before = appliance.run(f"{KIOSK} audit verify", check=True).out
    machine_id = appliance.run("cat /etc/machine-id", check=True).out.strip()
    appliance.run(f"printf 'KIOSK_UPDATE_URL={update_server}\\nKIOSK_UPDATE_RATE_KIB=0\\n' >> /etc/cert-kiosk/kiosk.env",
                  check=True)

    before = appliance.boot_id()
    start = time.monotonic()
    appliance.run("systemctl start --no-block cert-kiosk-update-fetch.service", check=True)
    appliance.wait_for_new_boot(before, 900)
    record("network_update_to_userspace_s", time.monotonic() - start)
    fetched = appliance.run("journalctl -b -1 -u cert-kiosk-update-fetch --no-pager -o cat", check=True).out
    for line in (f"update.fetch_downloaded bundle=cert-kiosk-lab_{NEXT_VERSION}.raucb",
                 f"update.install_finished version={NEXT_VERSION}",
                 f"update.restart_requested version={NEXT_VERSION} source=network"):
        assert line in fetched, fetched[-3000:]
    assert appliance.run("ls -A /data/updates", check=True).out.strip() == "", "the download was deleted"
    start = time.monotonic()
    appliance.wait_until("systemctl is-active --quiet cert-kiosk.service", 600, interval=5)
    record("update_userspace_to_kiosk_ready_s", time.monotonic() - start)

    assert "rauc.slot=B" in appliance.run("cat /proc/cmdline", check=True).out
    release = appliance.run(". /etc/os-release && echo $IMAGE_VERSION", check=True).out.strip()
    assert release == NEXT_VERSION
    appliance.wait_until("systemctl is-active --quiet cert-kiosk-update-good.service", 600, interval=5)
    record("update_userspace_to_marked_good_s", time.monotonic() - start)
    status = slots(appliance)
    assert status["booted"] == "B", status
    assert status["slots"]["rootfs.1"]["boot_status"] == "good", status
    assert status["slots"]["rootfs.0"]["boot_status"] == "good", status  # the way back stays open
    env = grubenv(appliance)
    assert (env["B_OK"], env["B_TRY"], env["B_PROVEN"], env["A_PROVEN"]) == ("1", "0", "1", "1"), env
    assert [check.split("check=")[1] for check in gate_lines(appliance, "update.gate_passed slot=B")] == [
        "live", "screen", "healthz", "doctor"]
    info = build_info(appliance)
    assert 'slot="B"' in info and 'revision="unknown"' not in info, info

    with urllib.request.urlopen(appliance.url + "/healthz/live", timeout=60) as answer:
        assert answer.status == 200
    assert appliance.run("cat /etc/machine-id", check=True).out.strip() == machine_id
    settings = appliance.run("cat /etc/cert-kiosk/kiosk.env", check=True).out
    assert f"KIOSK_UPDATE_URL={update_server}" in settings, "the kiosk's own configuration was lost"
    assert appliance.run("findmnt -no OPTIONS /", check=True).out.split(",")[0] == "ro"
    kept_after = appliance.run(REGISTRY, check=True).out.split()
    assert kept_after[0] == kept_before[0], (kept_before, kept_after)
    assert int(kept_after[1]) >= int(kept_before[1]), (kept_before, kept_after)
    assert kept_after[2] == "1", "the staff member added on slot A is gone"
    audit_after = appliance.run(f"{KIOSK} audit verify", check=True).out
    assert "intact" in audit_after and "intact" in audit_before, (audit_before, audit_after)

    customer = Customer(appliance.url)
    walk_to_drive(customer, lambda: outbox_code(appliance))
    appliance.plug(stick_image(tmp_path / "after-update.img", "NEWSLOT"), name="after-update")
    try:
        write_onto(customer, "NEWSLOT")
        assert customer.url.endswith("/journey/done"), customer.page[-2000:]
    finally:
        appliance.unplug("after-update")
    issued = appliance.run(REGISTRY, check=True).out.split()
    assert int(issued[0]) == int(kept_after[0]) + 1, (kept_after, issued)


def test_three_power_cuts_in_a_row_leave_the_kiosk_on_its_proven_slot(appliance):
    """Each cut comes just after GRUB chose slot B (its line on the serial console), where a boot counter
    of the kind RAUC's issues #490 and #683 describe would have spent a try: a proven slot counts none."""
    before = grubenv(appliance)
    for _cut in range(3):
        appliance.power_cut()
        appliance.power_on()
        deadline = time.monotonic() + 180
        while "Booting root slot" not in appliance.console_text():
            if time.monotonic() > deadline:  # GRUB's words not on this console: cut once userspace runs
                appliance.wait_for_agent(600)
                break
            time.sleep(0.5)
        time.sleep(3)  # the kernel is loading
    power_cycle(appliance, "power_cut_to_userspace_on_b_s")
    assert booted_slot(appliance) == "B"
    assert grubenv(appliance) == before
    status = slots(appliance)
    assert status["booted"] == "B" and status["slots"]["rootfs.1"]["boot_status"] == "good", status
    record("power_cut_userspace_to_kiosk_ready_on_b_s",
           appliance.wait_until("systemctl is-active --quiet cert-kiosk.service", 600, interval=5))


def test_no_browser_start_in_any_boot_lost_its_first_page(appliance):
    """Issue 28 item 6, the wedge of Chromium's first start: its UI thread asked the accessibility bus
    synchronously for up to 25 s, its child processes gave up after 15 s, and the first page load was
    lost (docs/performance.md); it came back once in CI on a loaded machine without that question. With
    AT-SPI off, no session bus and a 60 s grace for the children (cert-kiosk-browser.service), no start of
    this session — the first boot, every reboot and power-on above, on both slots; the journal is on the
    data partition — has a child that gave up (the lab logs Chromium's INFO lines) or a network service
    restarted."""
    journal = appliance.run("journalctl --no-pager -o short-monotonic -t cage", timeout=300, check=True).out
    lost = [line for line in journal.splitlines()
            if "Terminating current process after" in line or "Network service crashed" in line]
    assert lost == [], "\n".join(lost)
    restarted = appliance.run("journalctl --no-pager -o cat -u cert-kiosk-screen.service | grep -c browser.restarted")
    record("browser_restarted_by_screen_timer", float(restarted.out.strip() or 0))
    boots = appliance.run("journalctl --list-boots --no-pager | wc -l", check=True).out.strip()
    record("boots_in_the_journal", float(boots))

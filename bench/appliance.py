"""The lab appliance (`make image`) booted once under QEMU, three figures each beside its floor measured in
the same boot:

- power-on → the attract screen painted, against power-on → multi-user.target. "Painted" is the later of
  two proofs: the page's first report (templates/_page.html posts /healthz/screen when htmx processes the
  page: its HTML parsed, its scripts run; the mtime of /var/lib/cert-kiosk/screen.seen) and the first
  screendump of QEMU's display that is not blank (tests.system.appliance.painted, polled every second:
  up to 1 s late). Both count from QEMU's start, firmware and GRUB included.
- hot-plug (QMP device_add) → the stick's label in the kiosk's drive list (what the screen's htmx
  fetches, /drives/list, polled every 0.1 s), against the same plug → `udevadm monitor` in the guest
  seeing udev finish with the stick's partition (its label known: nothing can list it sooner).
- "issue onto this stick" (POST /journey/drive) → the done page ("USB를 빼셔도 됩니다": written, verified,
  unmounted, powered off), against mount + copy of the same files + sync + umount + power-off by hand as
  root in the guest, onto a blank stick of the same make, timed in the guest.

Guest events are read on the host's clock (Appliance.clock: the guest's monotonic and realtime clocks
against time.time(), read by the guest agent). The browser unit's journal from the same boot goes to
bench/results/appliance-browser-journal.txt: whether Chromium's first start drew the page or wedged.

    flock /work/notes/vm.lock .venv/bin/python -m bench.appliance [--plugs 5] [--issues 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.common import RESULTS, print_table, write_results
from bench.startup import free_port
from kiosk.identity.demo import DEMO_CUSTOMERS
from tests.http_customer import Customer, choose_drive, wait_for_issuing, walk_to_drive
from tests.system.appliance import Appliance, build_image, painted, stick_image
from tests.system.kiosk_customer import drive_buttons, outbox_code, wait_listed

LABEL = "우체국"
SCREEN_SEEN = "/var/lib/cert-kiosk/screen.seen"
BROWSER = "cert-kiosk-browser.service"
# a first start that wedges is restarted by cert-kiosk-screen.timer after 180 s: room for two
SCREEN_TIMEOUT = 900
# people with a resident card (the shortest identity step), one new certificate each
PEOPLE = [person for person in DEMO_CUSTOMERS if person.id_kind == "resident_card" and not person.id_reported_lost]


def unit_entered(vm: Appliance, unit: str) -> float:
    """The guest's monotonic second at which `unit` last became active."""
    usec = vm.run(f"systemctl show -p ActiveEnterTimestampMonotonic --value {unit}", check=True).out.strip()
    return int(usec) / 1e6


def first_report(vm: Appliance, out: dict) -> None:
    """In the guest: wait for the page's first report, then its mtime at once (it is touched again every
    15 s). For a thread: the agent's socket is this thread's alone meanwhile."""
    found = vm.run(f"until [ -f {SCREEN_SEEN} ]; do sleep 0.2; done; stat -c %.9Y {SCREEN_SEEN}",
                   timeout=SCREEN_TIMEOUT, check=True, poll=5)
    out["mtime"] = float(found.out.strip())


def measure_boot(vm: Appliance, powered_on: float, work: Path) -> dict:
    """Power-on → agent, multi-user.target, the app's READY, the page's report, the first painted frame."""
    vm.wait_for_agent(600)
    agent = time.time() - powered_on
    report: dict = {}
    waiter = threading.Thread(target=first_report, args=(vm, report), daemon=True)
    waiter.start()
    first_paint, frames = None, 0
    deadline = time.monotonic() + SCREEN_TIMEOUT
    while (waiter.is_alive() or first_paint is None) and time.monotonic() < deadline:
        at = time.time()
        try:
            png = vm.screendump(work / "screen.png")
        except RuntimeError:  # no surface yet: the guest's driver has not set a mode
            png = None
        frames += 1
        if first_paint is None and png is not None and painted(png):
            first_paint = at - powered_on
            png.rename(RESULTS / "appliance-first-painted.png")
        time.sleep(max(0.0, 1 - (time.time() - at)))
    waiter.join(1)
    assert "mtime" in report and first_paint is not None, f"no screen within {SCREEN_TIMEOUT} s"
    vm.wait_until("systemctl is-active --quiet multi-user.target && systemctl is-active --quiet cert-kiosk", 600)
    boot_gap, real_gap = vm.clock()
    on_host = lambda monotonic: monotonic + boot_gap - real_gap - powered_on  # noqa: E731
    reported = report["mtime"] - real_gap - powered_on
    assert reported > 0, f"{SCREEN_SEEN} predates this boot"
    return {"agent_s": agent, "kernel_s": on_host(0.0), "multi_user_s": on_host(unit_entered(vm, "multi-user.target")),
            "kiosk_ready_s": on_host(unit_entered(vm, "cert-kiosk.service")),
            "browser_started_s": on_host(unit_entered(vm, BROWSER)), "page_reported_s": reported,
            "first_painted_frame_s": first_paint, "painted_s": max(reported, first_paint), "frames": frames}


def browser_first_start(vm: Appliance) -> dict:
    """The browser's lines of this boot, kept: did its first start draw, or wedge and get restarted by
    cert-kiosk-screen.timer (`browser.restarted`)? Read from the whole journal by identifier (`cage`:
    Chromium writes to cage's stderr), and with the units that start and restart it."""
    whole = vm.run("journalctl -b --no-pager -o short-monotonic", timeout=300, check=True).out
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "appliance-journal.txt").write_text(whole)
    lines = [line for line in whole.splitlines()
             if re.search(r"cert-kiosk-browser|cert-kiosk-screen|\bcage\[|seatd\[|Chromium", line)]
    (RESULTS / "appliance-browser-journal.txt").write_text("\n".join(lines) + "\n")
    return {"starts": sum("Started cert-kiosk-browser" in line for line in lines),
            "restarted_by_timer": sum("browser.restarted" in line for line in lines),
            "crash_lines": [line for line in lines if re.search(r"crash|terminated|Assertion|ERROR", line)][:40]}


def udev_partition_adds(vm: Appliance) -> list[float]:
    """Guest-monotonic seconds of every `add` of a USB stick's partition udevadm monitor has printed."""
    log = vm.run("cat /run/bench-udev.log", check=True).out
    return [float(m[1]) for m in re.finditer(r"^UDEV\s+\[(\d+\.\d+)\] add\s+\S+/block/sd[a-z]+/sd[a-z]+\d+ \(block\)",
                                             log, re.MULTILINE)]


def wait_gone(customer: Customer, label: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while label in drive_buttons(customer):
        assert time.monotonic() < deadline, f"the stick {label} stayed listed after its removal"
        time.sleep(0.2)


def measure_hotplug(vm: Appliance, stick: Path, plugs: int) -> dict:
    """Plug → listed over HTTP, against plug → udev's partition event, `plugs` times on one stick."""
    vm.run("systemd-run --quiet --unit=bench-udev sh -c "
           "'exec stdbuf -oL udevadm monitor --udev --subsystem-match=block > /run/bench-udev.log'", check=True)
    vm.wait_until("grep -q 'UDEV - the event' /run/bench-udev.log", 60, interval=0.5)
    customer = Customer(vm.url)
    samples: dict[str, list[float]] = {"listed": [], "udev": []}
    for _ in range(plugs):
        plugged = time.time()
        vm.plug(stick)
        wait_listed(customer, LABEL, interval=0.1)
        samples["listed"].append(time.time() - plugged)
        boot_gap, real_gap = vm.clock()
        adds = [m + boot_gap - real_gap for m in udev_partition_adds(vm)]
        samples["udev"].append(min(at for at in adds if at > plugged - 0.5) - plugged)
        vm.unplug()
        wait_gone(customer, LABEL)
        time.sleep(1)
    vm.run("systemctl stop bench-udev")
    return samples


def issue_once(vm: Appliance, stick: Path, person) -> float:
    """A customer walked to the drive step, the stick plugged and listed: seconds from "issue onto this
    stick" to the done page."""
    customer = Customer(vm.url)
    walk_to_drive(customer, lambda: outbox_code(vm), person=person)
    vm.plug(stick, name="issued")
    drive_id = wait_listed(customer, LABEL, interval=0.1)
    customer.get("/journey/drive")
    started = time.monotonic()
    choose_drive(customer, drive_id)
    wait_for_issuing(customer, timeout=300, interval=0.1)
    took = time.monotonic() - started
    assert customer.url.endswith("/journey/done") and "USB를 빼셔도 됩니다" in customer.page, customer.page[-2000:]
    assert vm.run("test -e /dev/sda").status != 0, "the kiosk left the stick powered"
    vm.unplug("issued")
    return took


def by_hand(vm: Appliance, issued: Path, blank: Path) -> float:
    """The same files copied by hand onto a blank stick: the issued stick plugged again and its NPKI
    folder read into the guest's /run, then mount, cp, sync, umount and power-off, timed in the guest.
    The kiosk checks every stick it sees (udisks2's Filesystem.Check holds the partition open for
    itself): a mount refused meanwhile as busy is tried again, untimed, once the stick is listed."""
    vm.plug(issued, name="issued")
    vm.run("rm -rf /run/bench-npki; mkdir -p /run/bench-src", check=True)
    vm.wait_until("test -b /dev/sda1 && mount -o ro /dev/sda1 /run/bench-src", 60, interval=0.5)
    vm.run("cp -r /run/bench-src/NPKI /run/bench-npki && umount /run/bench-src", check=True)
    vm.unplug("issued")
    vm.wait_until("! test -e /dev/sda", 60, interval=0.2)
    vm.plug(blank, name="blank")
    wait_listed(Customer(vm.url), "BLANK", interval=0.2)
    for _ in range(20):
        timed = vm.run("mkdir -p /run/bench-dst; a=$(date +%s.%N); mount -t vfat /dev/sda1 /run/bench-dst && "
                       "cp -r /run/bench-npki /run/bench-dst/NPKI && sync && umount /run/bench-dst && "
                       "udisksctl power-off --no-user-interaction -b /dev/sda && echo $a $(date +%s.%N)")
        if timed.status != 32:  # mount(8)'s "mount failure": busy
            break
        time.sleep(0.5)
    assert timed.status == 0, f"{timed.status}: {timed.out} {timed.err}"
    start, end = map(float, timed.out.split())
    vm.unplug("blank")
    return end - start


def measure_issuance(vm: Appliance, sticks: Path, issues: int) -> dict:
    samples: dict[str, list[float]] = {"kiosk": [], "by_hand": []}
    for n, person in enumerate(PEOPLE[:issues]):
        issued = stick_image(sticks / f"issued-{n}.img", LABEL)
        samples["kiosk"].append(issue_once(vm, issued, person))
        samples["by_hand"].append(by_hand(vm, issued, stick_image(sticks / f"blank-{n}.img", "BLANK")))
    return samples


def table(boot: dict, hotplug: dict, issuance: dict) -> list[list]:
    p50 = statistics.median
    return [
        ["power-on → attract screen painted", boot["painted_s"], "power-on → multi-user.target", boot["multi_user_s"],
         boot["painted_s"] / boot["multi_user_s"]],
        [f"hot-plug → listed on the kiosk (p50 of {len(hotplug['listed'])})", p50(hotplug["listed"]),
         "hot-plug → udevadm monitor sees the partition", p50(hotplug["udev"]),
         p50(hotplug["listed"]) / p50(hotplug["udev"])],
        [f"\"issue\" → USB를 빼셔도 됩니다 (p50 of {len(issuance['kiosk'])})", p50(issuance["kiosk"]),
         "mount + cp + sync + umount + power-off by hand", p50(issuance["by_hand"]),
         p50(issuance["kiosk"]) / p50(issuance["by_hand"])],
    ]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.appliance")
    parser.add_argument("--plugs", type=int, default=5)
    parser.add_argument("--issues", type=int, default=3)
    args = parser.parse_args(argv)
    image = build_image()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-appliance-") as tmp:
        work = Path(tmp)
        vm = Appliance(image, work, free_port())
        powered_on = time.time()
        vm.boot()
        done: dict = {}
        try:
            done["boot"] = boot = measure_boot(vm, powered_on, work)
            done["browser"] = browser = browser_first_start(vm)
            done["hotplug"] = hotplug = measure_hotplug(vm, stick_image(work / "stick.img", LABEL), args.plugs)
            issuance = measure_issuance(vm, work, args.issues)
        except BaseException:
            write_results("appliance-partial", done)  # a boot costs minutes: keep what it measured
            if "browser" not in done and vm._agent is not None:
                browser_first_start(vm)
            raise
        finally:
            vm.shutdown()
    rows = table(boot, hotplug, issuance)
    print_table("The appliance under QEMU TCG, one boot (s)", ["measure", "s", "floor", "floor s", "ratio"], rows)
    print(f"\nChromium's first start: {browser['starts']} start(s), {browser['restarted_by_timer']} restart(s) "
          f"by cert-kiosk-screen.timer (journal: {RESULTS / 'appliance-browser-journal.txt'})")
    return write_results("appliance", {"image": str(image), "boot": boot, "hotplug": hotplug, "issuance": issuance,
                                       "browser": browser, "ratios": {"screen": rows[0][4], "hotplug": rows[1][4],
                                                                      "issuance": rows[2][4]}})


if __name__ == "__main__":
    main()

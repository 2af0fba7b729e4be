"""The booted appliance (`make image`, QEMU TCG), each figure beside its floor measured in the same boot:

- boot → the attract screen painted on the real display (QMP screendump), against boot → multi-user.target
  (systemd's own timestamp in the guest);
- hot-plug → the drive on the kiosk's list (the app's `drive.added`), against `udevadm monitor` in the guest
  seeing the partition (both on the guest's monotonic clock, read from the journal and udev);
- tap ("issue" chosen) → "USB를 빼셔도 됩니다", against copying the same bytes onto a stick as root in the
  guest, `sync`, unmount and power off through udisks2 (the least any delivery costs).

Ratios, absolutes beside them; one boot, three rounds of the last two. Needs root, QEMU and the image
(`make image`; built here when missing). docs/performance.md, "The appliance".

    .venv/bin/python -m bench.appliance [--rounds 3]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import print_table, write_results

REPO = Path(__file__).resolve().parents[1]


def guest_uptime(vm) -> float:
    return float(vm.run("cut -d' ' -f1 /proc/uptime", check=True).out)


def painted(png: Path) -> bool:
    from PIL import Image

    colours = Image.open(png).convert("RGB").getcolors(maxcolors=1 << 20)
    return colours is not None and len(colours) > 20


def boot_figures(vm, launched: float, work: Path) -> dict:
    """Seconds from QEMU's start to the attract screen painted (host clock, screendumps every second) and
    to multi-user.target (guest monotonic clock, which starts with the kernel a moment after QEMU)."""
    while True:
        shot = vm.screendump(work / "boot.png")
        if painted(shot) and vm.run("test -f /var/lib/cert-kiosk/screen.seen").status == 0:
            screen = time.monotonic() - launched
            break
        assert time.monotonic() - launched < 1800, "the screen never painted"
        time.sleep(1)
    multi_user = int(vm.run("systemctl show -P ActiveEnterTimestampMonotonic multi-user.target",
                            check=True).out) / 1e6
    return {"boot_to_multi_user_s": round(multi_user, 1), "boot_to_attract_painted_s": round(screen, 1),
            "ratio": round(screen / multi_user, 2)}


def monotonic_of(line: str) -> float:
    return float(re.match(r"\[\s*(\d+\.\d+)\]", line)[1])


def hotplug_round(vm, customer, stick: Path, name: str) -> dict:
    """`udevadm monitor` (guest) → the app's drive.added (guest journal, monotonic): both on one clock."""
    vm.run("rm -f /run/bench-udev.log; (timeout 120 udevadm monitor --udev -s block > /run/bench-udev.log &)",
           check=True)
    time.sleep(1)
    since = guest_uptime(vm)
    plugged = time.monotonic()
    vm.plug(stick, name=name)
    label = "BENCH"
    while label not in customer.get("/drives/list"):
        assert time.monotonic() - plugged < 120, "the stick never appeared"
        time.sleep(0.2)
    over_http = time.monotonic() - plugged
    udev = vm.run("grep -m1 -E 'UDEV +\\[[0-9.]+\\] add .*/sd[a-z][0-9]+ \\(block\\)' /run/bench-udev.log",
                  check=True).out
    seen_by_udev = float(re.search(r"\[(\d+\.\d+)\]", udev)[1])
    journal = vm.run("journalctl -b -u cert-kiosk -o short-monotonic --no-pager --since=-300s "
                     "| grep 'drive.added' | tail -1", check=True).out
    listed = monotonic_of(journal.strip())
    return {"udev_s": round(seen_by_udev - since, 2), "app_listed_s": round(listed - since, 2),
            "app_after_udev_s": round(listed - seen_by_udev, 2), "plug_to_http_list_s": round(over_http, 2)}


FLOOR = """set -e
part=$(lsblk -nrpo NAME,LABEL | awk '$2 == "BENCH" {print $1; exit}')
disk=/dev/$(lsblk -nro PKNAME "$part")
head -c 1800 /dev/urandom > /run/bench-cert; head -c 1400 /dev/urandom > /run/bench-key
start=$(date +%s.%N)
where=$(udisksctl mount --no-user-interaction -b "$part" | sed -n 's/.* at \\(.*\\)$/\\1/p')
mkdir -p "$where/NPKI/yessign/USER/cn=bench"
cp /run/bench-cert "$where/NPKI/yessign/USER/cn=bench/signCert.der"
cp /run/bench-key "$where/NPKI/yessign/USER/cn=bench/signPri.key"
sync
udisksctl unmount --no-user-interaction -b "$part" >/dev/null
udisksctl power-off --no-user-interaction -b "$disk"
end=$(date +%s.%N)
echo "$start $end"
"""


def delivery_round(vm, customer, stick: Path, read_code, name: str) -> dict:
    """The customer's issuance onto a stick against the floor on another stick, same boot."""
    from tests.http_customer import choose_drive, wait_for_issuing
    from tests.http_customer import walk_to_drive as walk_to_drive_step

    walk_to_drive_step(customer, read_code)
    vm.plug(stick, name=name)
    while "BENCH" not in customer.get("/drives/list"):
        time.sleep(0.3)
    drive_id = re.search(r'name="drive_id" value="(\w+)"', customer.page)[1]
    customer.get("/journey/drive")
    time.sleep(3)  # the stick's filesystem check, started when it was listed, is done
    start = time.monotonic()
    choose_drive(customer, drive_id)
    wait_for_issuing(customer, timeout=300, interval=0.2)
    tap_to_done = time.monotonic() - start
    assert "USB를 빼셔도 됩니다" in customer.page, customer.page[-2000:]
    vm.unplug(name)
    vm.plug(stick, name=name)
    vm.wait_until("lsblk -nro LABEL | grep -qx BENCH", 120, interval=0.5)
    begin, end = (float(v) for v in vm.run(FLOOR, check=True, timeout=300).out.split())
    vm.unplug(name)
    floor = end - begin
    return {"tap_to_done_s": round(tap_to_done, 2), "copy_sync_power_off_s": round(floor, 2),
            "ratio": round(tap_to_done / floor, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from tests.conftest import free_port
    from tests.http_customer import Customer
    from tests.system.appliance import Appliance, stick_image
    from tests.system.test_appliance import outbox_code

    built = subprocess.run(["sh", "appliance/build-image.sh"], cwd=REPO, capture_output=True, text=True,
                           timeout=3600, check=True)
    work = Path(tempfile.mkdtemp(prefix="bench-appliance-"))
    vm = Appliance(Path(built.stdout.strip().splitlines()[-1]), work, free_port())
    launched = time.monotonic()
    vm.boot()
    try:
        vm.wait_for_agent(1800)
        boot = boot_figures(vm, launched, work)
        customer = Customer(vm.url)
        plugs, deliveries = [], []
        for n in range(args.rounds):
            stick = stick_image(work / f"plug{n}.img", "BENCH")
            plugs.append(hotplug_round(vm, customer, stick, f"plug{n}"))
            vm.unplug(f"plug{n}")
            time.sleep(2)
        for n in range(args.rounds):
            stick = stick_image(work / f"deliver{n}.img", "BENCH")
            deliveries.append(delivery_round(vm, Customer(vm.url), stick, lambda: outbox_code(vm), f"deliver{n}"))
    finally:
        vm.shutdown()
    print_table("boot → attract screen painted, beside boot → multi-user.target", list(boot), [list(boot.values())])
    print_table("hot-plug → drive on the kiosk's list, beside udevadm monitor (guest monotonic, from plug)",
                list(plugs[0]), [list(r.values()) for r in plugs])
    print_table("tap → USB를 빼셔도 됩니다, beside copy + sync + power-off of the same bytes",
                list(deliveries[0]), [list(r.values()) for r in deliveries])
    write_results("appliance", {"boot": boot, "hotplug": plugs, "delivery": deliveries})


if __name__ == "__main__":
    main()

"""The whole kiosk on the lab appliance (`make image`) booted under QEMU: systemd as PID 1, the .deb's
units and polkit rule, udisks2 on the system bus, the kernel's vfat, a USB stick hot-plugged on an
emulated xHCI controller, cage + Chromium on a virtual display. One boot for the module; the tests run in
order and share it. Timings go to tests/artifacts/appliance-timings.json (docs/performance.md)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest
from pypinksign import PinkSign

from tests.conftest import free_port
from tests.http_customer import Customer, choose_drive, wait_for_issuing
from tests.http_customer import walk_to_drive as walk_to_drive_step
from tests.system.appliance import REPO, Appliance, exfat_stick_image, partition, stick_image
from tests.walker import GOOD_PASSWORD

ARTIFACTS = REPO / "tests" / "artifacts"
LABEL = "우체국"
TIMINGS: dict[str, float] = {}
DOCTOR = ("systemd-run --quiet --pipe --wait --collect -p User=cert-kiosk "
          "-p Environment='KIOSK_MODE=production KIOSK_DATA_DIR=/var/lib/cert-kiosk' "
          "-p EnvironmentFile=/etc/cert-kiosk/kiosk.env /opt/cert-kiosk/.venv/bin/kiosk doctor")


def damage_fat32(image: Path, offset: int) -> None:
    """What the appliance's power cut left on a FAT32 stick (issue 28): the dirty bit set, /NPKI pointing
    at a free cluster, a wrong free-cluster count."""
    with image.open("r+b") as file:
        file.seek(offset)
        boot = file.read(512)
        sector, per_cluster, reserved, fats = struct.unpack_from("<HBHB", boot, 0x0B)
        fat_size, root_cluster = struct.unpack_from("<I", boot, 0x24)[0], struct.unpack_from("<I", boot, 0x2C)[0]
        file.seek(offset + 0x41)
        file.write(bytes([boot[0x41] | 1]))
        file.seek(offset + (reserved + fats * fat_size + (root_cluster - 2) * per_cluster) * sector)
        root = file.read(per_cluster * sector)
        entry = next(o for o in range(0, len(root), 32) if root[o:o + 11] == b"NPKI       ")
        cluster = struct.unpack_from("<H", root, entry + 0x14)[0] << 16 | struct.unpack_from("<H", root, entry + 0x1A)[0]
        for copy in range(fats):
            file.seek(offset + (reserved + copy * fat_size) * sector + cluster * 4)
            file.write(b"\0\0\0\0")
        file.seek(offset + sector + 0x1E8)
        file.write(struct.pack("<I", 12345))


def record(name: str, seconds: float) -> None:
    TIMINGS[name] = round(seconds, 1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "appliance-timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")


@pytest.fixture(scope="module")
def appliance(tmp_path_factory):
    for tool, package in (("mmdebstrap", "mmdebstrap"), ("qemu-system-x86_64", "qemu-system-x86"),
                          ("mdir", "mtools"), ("fsck.fat", "dosfstools"), ("sfdisk", "fdisk")):
        if not (shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")):
            pytest.fail(f"{tool} is not installed: `make test` installs the Debian package {package}")
    start = time.monotonic()
    built = subprocess.run(["sh", "appliance/build-image.sh"], cwd=REPO, capture_output=True, text=True,
                           timeout=2400)
    assert built.returncode == 0, built.stderr[-4000:]
    record("image_ready_s", time.monotonic() - start)
    vm = Appliance(Path(built.stdout.strip().splitlines()[-1]), tmp_path_factory.mktemp("vm"), free_port())
    start = time.monotonic()
    vm.boot()
    try:
        vm.wait_for_agent(1200)
        record("boot_to_userspace_s", time.monotonic() - start)
        vm.wait_until("systemctl is-active --quiet cert-kiosk.service", 1200)
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
        for log in ("console.log", "qemu.stderr"):
            if (vm.work / log).exists():
                shutil.copy(vm.work / log, ARTIFACTS / f"appliance-{log}")


def test_the_screen_shows_the_attract_page(appliance):
    """The browser unit's page reports in (the doctor's liveness signal), and the real display shows it."""
    start = time.monotonic()
    # a first start under emulation may wedge (Chromium never draws): cert-kiosk-screen.timer restarts it
    appliance.wait_until("test -f /var/lib/cert-kiosk/screen.seen", 720, interval=5)
    record("kiosk_ready_to_screen_report_s", time.monotonic() - start)
    time.sleep(3)  # the first paint after the page's first request
    png = appliance.screendump(ARTIFACTS / "appliance-attract.png")
    from PIL import Image

    colours = Image.open(png).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 20, "the display is blank"


def test_doctor_passes_on_the_running_appliance(appliance):
    result = appliance.run(DOCTOR)
    assert result.status == 0, result.out + result.err
    assert "UDisks2 answers on the system bus" in result.out
    assert "the screen reported" in result.out


def test_the_app_unit_is_hardened_on_the_running_system(appliance):
    for unit, limit in (("cert-kiosk.service", 2.0), ("cert-kiosk-screen.service", 2.0),
                        ("cert-kiosk-browser.service", 4.0)):
        result = appliance.run(f"systemd-analyze security --no-pager {unit}", check=True)
        level = float(re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.out)[1])
        record(f"exposure_{unit.split('.')[0].replace('-', '_')}", level)
        assert level <= limit, result.out[-2000:]


def test_the_kiosk_unit_cannot_read_the_ca_keys(appliance):
    """The embedded CA is its own unit and user (issue 30): inside the kiosk unit's sandbox, as its user, the
    CA's certificates read and its keys do not; the CA process answers on loopback only."""
    assert appliance.run("systemctl is-active cert-kiosk-ca.service").out.strip() == "active"
    pid = appliance.run("systemctl show -p MainPID --value cert-kiosk.service", check=True).out.strip()
    as_kiosk = (f"nsenter -t {pid} -m -- setpriv --reuid=$(id -u cert-kiosk) --regid=$(id -g cert-kiosk) "
                "--clear-groups cat")
    chain = appliance.run(f"{as_kiosk} /var/lib/cert-kiosk-ca/ca/chain.pem")
    assert chain.status == 0 and "BEGIN CERTIFICATE" in chain.out, chain.err
    for key in ("issuing.key.pem", "root.key.pem"):
        read = appliance.run(f"{as_kiosk} /var/lib/cert-kiosk-ca/ca/{key}")
        assert read.status != 0 and "PRIVATE KEY" not in read.out, read.err
    owner = appliance.run("stat -c %U:%a /var/lib/cert-kiosk-ca/ca/issuing.key.pem", check=True).out.strip()
    assert owner == "cert-kiosk-ca:600"
    listening = appliance.run("ss -ltnH 'sport = :8829'", check=True).out
    assert "127.0.0.1:8829" in listening and "0.0.0.0:8829" not in listening


def test_the_hardened_screen_check_runs_to_success(appliance):
    """cert-kiosk-screen.service (5.0 before issue 28, now ≤ 2.0 above) still reads the page's report and
    talks to systemd: run now, it succeeds."""
    appliance.run("systemctl start cert-kiosk-screen.service", check=True, timeout=180)
    shown = appliance.run("systemctl show -P Result cert-kiosk-screen.service", check=True).out.split()
    assert shown == ["success"], shown
    journal = appliance.run("journalctl -b -u cert-kiosk-screen --no-pager -o cat", check=True).out
    assert "Permission denied" not in journal and "Access denied" not in journal, journal[-2000:]


def changed_fraction(before: Path, after: Path) -> float:
    """The share of the display's pixels that differ between two screendumps."""
    from PIL import Image, ImageChops

    difference = ImageChops.difference(Image.open(before).convert("RGB"), Image.open(after).convert("RGB"))
    histogram = difference.convert("L").point(lambda v: 255 if v > 16 else 0).histogram()
    return histogram[255] / (difference.width * difference.height)


def keyboard_rule(appliance: Appliance) -> str:
    """usbguard's line for the plugged-in keyboard (`N: block id 0627:0001 … name "QEMU USB Keyboard" …`)."""
    listing = appliance.run("usbguard list-devices", check=True).out
    return next((line for line in listing.splitlines() if '"QEMU USB Keyboard"' in line), "")


def test_a_keyboard_in_the_customer_port_is_refused_and_types_nothing(appliance):
    """usbguard: the customer's port accepts mass storage only. A keyboard plugged in stays unauthorised
    (the kernel logs it, usbguard lists it blocked, no input device appears) and its keys do nothing."""
    appliance.wait_until("test -f /var/lib/cert-kiosk/screen.seen", 720, interval=5)
    before = appliance.screendump(ARTIFACTS / "appliance-usb-before.png")
    appliance.plug_keyboard("intruder")
    appliance.wait_until("usbguard list-devices --blocked | grep -q 'QEMU USB Keyboard'", 60)
    rule = keyboard_rule(appliance)
    port = re.search(r'via-port "([\d.-]+)"', rule)[1]
    assert re.match(r"\d+: block ", rule) and "with-interface 03:01:01" in rule, rule
    kernel = appliance.run("journalctl -b -k --no-pager -o cat", check=True).out
    assert f"usb {port}: Device is not authorized for usage" in kernel, kernel[-3000:]
    decided = appliance.run("journalctl -b -u usbguard --no-pager -o cat", check=True).out
    assert re.search(r"target\.new='block' device\.rule='block id 0627:0001 [^']*\"QEMU USB Keyboard\"", decided), \
        decided[-3000:]
    assert appliance.run(f"cat /sys/bus/usb/devices/{port}/authorized", check=True).out.strip() == "0"
    assert "QEMU USB Keyboard" not in appliance.run("cat /proc/bus/input/devices", check=True).out
    appliance.keys("ctrl-n", "ctrl-o", "f12", "down", "tab", "ret")
    time.sleep(5)
    after = appliance.screendump(ARTIFACTS / "appliance-usb-refused-keys.png")
    assert changed_fraction(before, after) < 0.005, "the refused keyboard's keys changed the screen"


def test_a_keyboard_a_technician_authorises_types_no_shortcut(appliance):
    """`usbguard allow-device` (docs/operations.md): the keyboard works on the page (Down moves the focus),
    but the kiosk's layout has no Control, Alt or function keys: Ctrl+N (a window), Ctrl+O (a file
    chooser), F12 / Ctrl+Shift+I (DevTools' refusal dialog), Ctrl+T, Alt+F4 change nothing on screen."""
    number = keyboard_rule(appliance).split(":", 1)[0]
    appliance.run(f"usbguard allow-device {number}", check=True)
    appliance.wait_until("grep -q 'QEMU USB Keyboard' /proc/bus/input/devices", 60)
    time.sleep(3)  # cage opens the new keyboard
    start = appliance.screendump(ARTIFACTS / "appliance-keyboard-start.png")
    appliance.keys("down")
    time.sleep(4)
    focused = appliance.screendump(ARTIFACTS / "appliance-keyboard-focus.png")
    assert changed_fraction(start, focused) > 0, "the authorised keyboard does not reach the page"
    appliance.keys("ctrl-n", "ctrl-o", "f12", "ctrl-shift-i", "ctrl-t", "alt-f4", "ctrl-alt-f2")
    time.sleep(8)
    after = appliance.screendump(ARTIFACTS / "appliance-keyboard-shortcuts.png")
    assert changed_fraction(focused, after) < 0.005, "a shortcut changed the screen"
    assert appliance.run("systemctl is-active --quiet cert-kiosk-browser.service").status == 0
    appliance.unplug_device("intruder")


def element_centre(url: str, selector: str, size=(1280, 800)) -> tuple[float, float]:
    """Where `selector` is on the kiosk's screen, as fractions of its width and height: the same page in
    the host's headless Chromium at the appliance display's size."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": size[0], "height": size[1]})
            page.goto(url)
            box = page.locator(selector).bounding_box()
        finally:
            browser.close()
    return (box["x"] + box["width"] / 2) / size[0], (box["y"] + box["height"] / 2) / size[1]


def voiced_seconds(wav: Path, start: int, rate: int = 44100, channels: int = 2) -> float:
    """Seconds of sound (20 ms windows louder than 1 % of full scale) in what QEMU's sound card recorded
    after byte `start` (16-bit samples; the header's sizes are only written when QEMU exits)."""
    import array
    import math

    data = wav.read_bytes()[max(start, 44):]
    samples = array.array("h", data[:len(data) // 2 * 2])
    window = rate // 50 * channels
    loud = 0
    for i in range(0, len(samples) - window, window):
        chunk = samples[i:i + window]
        if math.sqrt(sum(v * v for v in chunk) / window) > 327:
            loud += 1
    return loud / 50


def test_voice_guidance_turned_on_by_touch_is_heard_from_the_sound_card(appliance):
    """A finger (QMP usb-tablet) taps 음성 안내 on the real screen; the page asks the kiosk's voice for the
    attract screen's guidance (espeak-ng) and plays it through the browser's audio (ALSA, the browser's
    user in `audio`); QEMU's intel-hda card records the guest's output to a WAV on the host: speech, not
    silence. The rate and volume the page sent reach the engine (speech.said in the journal)."""
    x, y = element_centre(appliance.url, "#mode-speech")
    quiet_from = appliance.sound.stat().st_size
    time.sleep(3)
    assert voiced_seconds(appliance.sound, quiet_from) == 0, "the kiosk speaks before anyone asked"
    start = appliance.sound.stat().st_size
    tapped = time.monotonic()
    appliance.tap(x, y)
    appliance.wait_until("journalctl -b -u cert-kiosk --no-pager -o cat | grep -q 'speech.said voice=ko'", 120)
    record("tap_to_speech_requested_s", time.monotonic() - tapped)
    time.sleep(12)  # the guidance is several seconds long
    heard = voiced_seconds(appliance.sound, start)
    record("voice_heard_s", heard)
    journal = appliance.run("journalctl -b -u cert-kiosk -u cert-kiosk-browser --no-pager -o cat", check=True).out
    said = re.findall(r"speech\.said voice=(\S+) wpm=(\d+) amplitude=(\d+)", journal)
    assert said and said[-1] == ("ko", str(round(165 * 0.95)), "100"), said
    assert heard > 1.0, f"{heard} s of sound recorded; browser journal:\n{journal[-3000:]}"
    appliance.tap(x, y)  # voice off again: the screens of later tests are the plain ones
    time.sleep(3)


# hardware.udisks2 in the guest's venv: a user the polkit rule does not name mounts the plugged stick, and the
# kiosk's user mounts a device that is not there; each prints user:code:the daemon's error name
UDISKS2_ERRORS = """for user in nobody cert-kiosk; do
  device=$(lsblk -nrpo NAME,LABEL | awk '$2 == "LOCKED" {print $1; exit}'); [ "$user" = cert-kiosk ] && device=/dev/sdz9
  systemd-run --quiet --pipe --wait --collect -p User=$user /opt/cert-kiosk/.venv/bin/python -c "
from hardware.drives import Drive
from hardware.errors import DriveError
from hardware.udisks2 import Udisks2Mounter
drive = Drive(id='d', device='$device', label='', fs_type='vfat', size_bytes=0, vendor='', model='',
              serial='', read_only=False, removable=True, bus='usb', eligible=True, reason=None)
try:
    Udisks2Mounter().mount(drive)
    print('$user:mounted:none')
except DriveError as error:
    print('$user:' + error.code + ':' + str(error).split(':', 1)[0].split()[-1])
"
done"""


def outbox_code(appliance: Appliance) -> str:
    """The newest e-mail code in the demo outbox, read from the guest's database (read-only)."""
    result = appliance.run(
        "/opt/cert-kiosk/.venv/bin/python -c \"import sqlite3; c = sqlite3.connect("
        "'file:/var/lib/cert-kiosk/kiosk.sqlite3?mode=ro', uri=True); "
        "print(c.execute('SELECT body FROM demo_outbox ORDER BY id DESC LIMIT 1').fetchone()[0])\"", check=True)
    return re.search(r"\b(\d{6})\b", result.out)[1]


def drive_buttons(customer: Customer) -> str:
    return customer.get("/drives/list")


@pytest.fixture(scope="module")
def stick(tmp_path_factory) -> Path:
    return stick_image(tmp_path_factory.mktemp("sticks") / "stick.img", LABEL)


def wait_listed(customer: Customer, label: str, timeout: float = 60) -> str:
    """Until the drive list shows the stick labelled `label`; its drive id."""
    deadline = time.monotonic() + timeout
    while label not in drive_buttons(customer):
        assert time.monotonic() < deadline, f"{label} never appeared: {customer.page}"
        time.sleep(0.5)
    block = customer.page[:customer.page.index(label)]
    return re.findall(r'value="(d[0-9a-f]+)"', block)[-1]


def deliver_repairing(appliance: Appliance, customer: Customer, label: str) -> list[str]:
    """Pick the stick as a customer does; when the kiosk says its filesystem needs a repair, press
    'USB 검사·복구하기' and pick it again. What happened, in order ("refused", "repaired", "done")."""
    happened: list[str] = []
    for _attempt in range(3):
        drive_id = wait_listed(customer, label)
        customer.get("/journey/drive")
        customer.post("/journey/drive", {"drive_id": drive_id})
        if not customer.url.endswith("/journey/drive"):
            wait_for_issuing(customer, timeout=300, interval=0.5)
        if customer.url.endswith("/journey/done"):
            return [*happened, "done"]
        assert "검사·복구" in customer.page, customer.page[-3000:]
        happened.append("refused")
        customer.get("/journey/drive")
        assert 'name="repair_id"' in customer.page, customer.page[-3000:]
        customer.post("/drives/repair", {"repair_id": drive_id, "back": "/journey/drive"})
        assert customer.url.endswith("/journey/drive"), customer.url
        happened.append("repaired")
    raise AssertionError(f"never delivered: {happened}")


def test_a_new_issuance_on_a_hotplugged_hangul_fat32_stick(appliance, stick, tmp_path):
    customer = Customer(appliance.url)
    walk_to_drive_step(customer, lambda: outbox_code(appliance))
    start = time.monotonic()
    appliance.plug(stick)
    deadline = time.monotonic() + 60
    while LABEL not in drive_buttons(customer):  # the label as Korean Windows writes it: CP949
        assert time.monotonic() < deadline, f"the stick never appeared: {customer.page}"
        time.sleep(0.5)
    record("hotplug_to_drive_listed_s", time.monotonic() - start)
    drive_id = re.search(r'name="drive_id" value="(\w+)"', customer.page)[1]

    start = time.monotonic()
    customer.get("/journey/drive")
    choose_drive(customer, drive_id)
    wait_for_issuing(customer, timeout=300, interval=0.5)
    record("issue_to_done_s", time.monotonic() - start)
    assert customer.url.endswith("/journey/done"), customer.page[-2000:]
    assert "USB를 빼셔도 됩니다" in customer.page

    journal = appliance.run("journalctl -b -u udisks2 --no-pager -o cat", check=True).out
    user = appliance.run("id -u cert-kiosk", check=True).out.strip()
    assert re.search(rf"Mounted /dev/sda1 at /media/cert-kiosk/\S+ on behalf of uid {user}", journal), journal
    assert re.search(rf"Unmounted /dev/sda1 on behalf of uid {user}", journal), journal
    assert re.search(r"Powered off /dev/sda", journal), journal
    assert appliance.run("test -e /dev/sda").status != 0, "the stick is still powered"
    appliance.unplug()

    # the stick, read on the host by tools that are not the kiosk's
    part = partition(stick, tmp_path / "part.img")
    check = subprocess.run(["fsck.fat", "-n", str(part)], capture_output=True, text=True)
    # fsck.fat 4.2 calls any non-ASCII label invalid (a CP949 label from Windows too): that, and nothing else
    problems = [line for line in check.stdout.splitlines()[1:] if line.strip() and not line.startswith(str(part))
                and line.strip() not in ("Auto-removing label.", "Leaving filesystem unchanged.")
                and not re.fullmatch(r"Volume label '.*' stored in root directory is not valid\.", line)]
    assert problems == [] and f"{part}: 7 files" in check.stdout, check.stdout + check.stderr
    env = {"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"}
    listing = subprocess.run(["mdir", "-/", "-b", "-i", f"{stick}@@1M", "::/NPKI"], capture_output=True,
                             text=True, env=env, check=True).stdout
    files = [line for line in listing.splitlines() if line.endswith(("signCert.der", "signPri.key"))]
    assert len(files) == 2 and "/cn=홍길동" in files[0], listing
    for name in files:
        subprocess.run(["mcopy", "-n", "-i", f"{stick}@@1M", name, str(tmp_path / Path(name).name)],
                       check=True, env=env)
    reader = PinkSign(pubkey_path=str(tmp_path / "signCert.der"), prikey_path=str(tmp_path / "signPri.key"),
                      prikey_password=GOOD_PASSWORD.encode())
    assert reader.cn().startswith("홍길동")
    assert reader.verify(reader.sign(b"banking login"), b"banking login")


def test_a_reissue_onto_an_exfat_stick(appliance, tmp_path):
    """The certificate issued above, reissued (재발급) onto another stick, formatted exFAT (the kernel's exfat)."""
    stick = exfat_stick_image(tmp_path / "exfat.img", "EXFATUSB")
    customer = Customer(appliance.url)
    walk_to_drive_step(customer, lambda: outbox_code(appliance), service="reissue")
    appliance.plug(stick, name="exfat")
    try:
        deadline = time.monotonic() + 60
        while "EXFATUSB" not in drive_buttons(customer):
            assert time.monotonic() < deadline, f"the stick never appeared: {customer.page}"
            time.sleep(0.5)
        drive_id = re.search(r'name="drive_id" value="(\w+)"', customer.page)[1]
        customer.get("/journey/drive")
        choose_drive(customer, drive_id)
        wait_for_issuing(customer, timeout=300, interval=0.5)
        assert customer.url.endswith("/journey/done"), customer.page[-2000:]
        assert "USB를 빼셔도 됩니다" in customer.page
        journal = appliance.run("journalctl -b -u udisks2 --no-pager -o cat", check=True).out
        user = appliance.run("id -u cert-kiosk", check=True).out.strip()
        assert f"Mounted /dev/sda1 at /media/cert-kiosk/EXFATUSB on behalf of uid {user}" in journal, journal
        assert appliance.run("test -e /dev/sda").status != 0, "the stick is still powered"
    finally:
        appliance.unplug("exfat")
    part = partition(stick, tmp_path / "exfat.part")
    check = subprocess.run(["fsck.exfat", "-n", str(part)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_write_protected_stick_is_shown_unusable_with_its_reason(appliance, tmp_path):
    locked = stick_image(tmp_path / "locked.img", "LOCKED")
    customer = Customer(appliance.url)
    appliance.plug(locked, name="locked", read_only=True)
    try:
        deadline = time.monotonic() + 60
        while "LOCKED" not in drive_buttons(customer):
            assert time.monotonic() < deadline, f"the stick never appeared: {customer.page}"
            time.sleep(0.5)
        unusable = customer.page.split("drive-unusable", 1)
        assert len(unusable) == 2 and "LOCKED" in unusable[1] and "쓰기 금지된 저장장치" in unusable[1]
        assert 'name="drive_id"' not in customer.page
        # the udisks2 adapter (jeepney) against the real daemon's errors, while a stick is there
        errors = appliance.run(UDISKS2_ERRORS, check=True, timeout=300).out.split()
        assert errors == ["nobody:mount_failed:NotAuthorizedCanObtain", "cert-kiosk:drive_removed:UnknownObject"], errors
    finally:
        appliance.unplug("locked")


def test_a_stick_pulled_while_written_says_so_and_the_same_stick_goes_back_in(appliance, tmp_path):
    """A real kernel reports a pulled stick as an I/O error: the screen says "저장하는 중에 USB가 빠졌습니다",
    the certificate is kept (docs/reliability.md), and the same stick, plugged in again, receives it."""
    stick = stick_image(tmp_path / "pulled.img", "PULLED")
    customer = Customer(appliance.url)
    walk_to_drive_step(customer, lambda: outbox_code(appliance))
    appliance.plug(stick, name="slow", write_bytes_per_second=2048)  # a write takes seconds
    deadline = time.monotonic() + 60
    while "PULLED" not in drive_buttons(customer):
        assert time.monotonic() < deadline, f"the stick never appeared: {customer.page}"
        time.sleep(0.5)
    drive_id = re.search(r'name="drive_id" value="(\w+)"', customer.page)[1]
    customer.get("/journey/drive")
    choose_drive(customer, drive_id)
    appliance.wait_until("grep -q ' /media/cert-kiosk/PULLED ' /proc/mounts", 120, interval=0.5)
    time.sleep(2)  # the bundle is being written, slowly
    appliance.unplug("slow")
    wait_for_issuing(customer, timeout=300, interval=0.5)
    assert customer.url.endswith("/journey/drive"), customer.page[-2000:]
    assert "저장하는 중에 USB가 빠졌습니다" in customer.page and "인증서는 그대로" in customer.page, customer.page
    journal = appliance.run("journalctl -b -u cert-kiosk --no-pager -o cat", check=True).out
    assert re.search(r"drive.write_failed .*code=drive_removed", journal), journal[-3000:]

    # the same stick back in: the kernel left its FAT dirty (mounted, never unmounted), so the kiosk
    # checks it, says so, repairs it on request, then writes
    appliance.plug(stick, name="again")
    try:
        happened = deliver_repairing(appliance, customer, "PULLED")
        assert happened[-1] == "done" and "USB를 빼셔도 됩니다" in customer.page, happened
        (ARTIFACTS / "appliance-pulled-stick.txt").write_text(" → ".join(happened) + "\n")
    finally:
        appliance.unplug("again")
    part = partition(stick, tmp_path / "pulled.part")
    check = subprocess.run(["fsck.fat", "-n", str(part)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_a_stick_left_inconsistent_by_a_power_cut_is_repaired_before_anything_is_written(appliance, tmp_path):
    """A FAT32 stick as the power cut left it (dirty bit, /NPKI on a free cluster, a wrong free count):
    listed as needing a repair, nothing written while it does, repaired by udisks2 as the kiosk's user
    (polkit), then it takes the certificate and fsck.fat finds it clean."""
    stick = stick_image(tmp_path / "cut.img", "POWERCUT")
    env = {"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"}
    for folder in ("::/NPKI", "::/NPKI/yessign"):
        subprocess.run(["mmd", "-i", f"{stick}@@1M", folder], check=True, env=env)
    damage_fat32(stick, 1024 * 1024)
    part = partition(stick, tmp_path / "cut.part")
    assert subprocess.run(["fsck.fat", "-n", str(part)], capture_output=True).returncode == 1
    customer = Customer(appliance.url)
    walk_to_drive_step(customer, lambda: outbox_code(appliance))
    appliance.plug(stick, name="cut")
    try:
        wait_listed(customer, "POWERCUT")
        deadline = time.monotonic() + 60
        while 'name="repair_id"' not in drive_buttons(customer):  # the check runs once it is listed
            assert time.monotonic() < deadline, customer.page
            time.sleep(0.5)
        assert "제대로 빼지 않아 검사·복구가 필요한 USB" in customer.page
        before = hashlib.sha256(stick.read_bytes()).hexdigest()
        drive_id = wait_listed(customer, "POWERCUT")
        customer.get("/journey/drive")
        customer.post("/journey/drive", {"drive_id": drive_id})  # picked anyway (a stale screen)
        if not customer.url.endswith("/journey/drive"):
            wait_for_issuing(customer, timeout=300, interval=0.5)
        assert customer.url.endswith("/journey/drive"), customer.url
        assert hashlib.sha256(stick.read_bytes()).hexdigest() == before, "written onto a damaged filesystem"
        happened = deliver_repairing(appliance, customer, "POWERCUT")
        assert happened == ["refused", "repaired", "done"], happened
        app = appliance.run("journalctl -b -u cert-kiosk --no-pager -o cat", check=True).out
        assert "drive.checked" in app and "consistent=false" in app and "drive.repaired" in app, app[-3000:]
    finally:
        appliance.unplug("cut")
    part = partition(stick, tmp_path / "cut.part")
    check = subprocess.run(["fsck.fat", "-n", str(part)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_the_app_runs_with_the_memory_settings_of_its_unit(appliance):
    """MALLOC_ARENA_MAX=2 (cert-kiosk.service; a third of the resident memory in `python -m bench.soak`)
    reaches the process systemd started; its resident memory after the journeys above is recorded."""
    pid = appliance.run("systemctl show -P MainPID cert-kiosk.service", check=True).out.strip()
    environ = appliance.run(f"tr '\\0' '\\n' < /proc/{pid}/environ", check=True).out.splitlines()
    assert "MALLOC_ARENA_MAX=2" in environ, environ
    status = appliance.run(f"cat /proc/{pid}/status", check=True).out
    record("app_rss_after_two_journeys_mib", int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) / 1024)


def test_a_frozen_app_is_restarted_by_the_watchdog(appliance):
    """SIGSTOP: the app answers nothing and pings nothing; systemd kills it after WatchdogSec and restarts."""
    before = appliance.run("systemctl show -P MainPID cert-kiosk.service", check=True).out.strip()
    limit = appliance.run("systemctl show -P WatchdogUSec cert-kiosk.service", check=True).out.strip()
    appliance.run(f"kill -STOP {before}", check=True)
    start = time.monotonic()
    appliance.wait_until(f"test \"$(systemctl show -P MainPID cert-kiosk.service)\" != {before} && "
                         "systemctl is-active --quiet cert-kiosk.service", 240, interval=2)
    record("sigstop_to_restarted_s", time.monotonic() - start)
    journal = appliance.run("journalctl -b -u cert-kiosk -p warning --no-pager -o cat", check=True).out
    assert "Watchdog timeout" in journal, journal[-2000:]
    assert limit in ("30s", "30")

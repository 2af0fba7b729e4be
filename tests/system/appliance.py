"""The lab appliance booted under QEMU for the system tests: its QMP monitor (USB hot-plug, screendump,
power) and its QEMU guest agent (commands in the guest, with their exit status and output). Software
emulation (TCG): this machine's KVM does not work (../shared/APPLIANCE.md)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
TIMINGS: dict[str, float] = {}
GUEST_PORT = 8080
# UEFI firmware (Debian's ovmf): the code read-only and shared, the variables a writable copy per VM
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS.fd")
# one answer from the guest agent: seconds on an idle machine, minutes when emulation shares two cores
AGENT_TIMEOUT = 300


def build_image() -> Path:
    """`make image` (appliance/build-image.sh, cached by recipe under $CERT_KIOSK_CACHE): the directory
    holding disk.img. Shared by the system tests and bench/appliance.py."""
    built = subprocess.run(["sh", "appliance/build-image.sh"], cwd=REPO, capture_output=True, text=True,
                           timeout=2400)
    assert built.returncode == 0, built.stderr[-4000:]
    return Path(built.stdout.strip().splitlines()[-1])


def painted(png: Path) -> bool:
    """Something drawn on the display: more than 20 colours. The states before the page (the text console,
    cage's empty output, Chromium's grey window when its first start wedges) have a handful at most."""
    from PIL import Image

    colours = Image.open(png).convert("RGB").getcolors(maxcolors=1 << 20)
    return colours is None or len(colours) > 20


RESTART_HUNG_AFTER_S = 240   # the guest's reboot watchdog (RebootWatchdogSec=1min, twice that on QEMU's i6300esb) and more
RESET_HUNG_AFTER_S = 120     # QEMU's reset → GRUB's first word: seconds under TCG, even on a loaded host
RESCUED_BOOT_S = 420         # a boot after a rescue: firmware, GRUB, the kernel, userspace, on a loaded host


def restart_hung(console: Path, quiet_for: float = RESTART_HUNG_AFTER_S) -> bool:
    """The kernel said "reboot: Restarting system" (or, after a panic, "Rebooting in 10 seconds") and the
    console has been silent since, for longer than the guest's own watchdog would have taken to reset it:
    no firmware, no GRUB, no new kernel."""
    try:
        silent = time.time() - console.stat().st_mtime
        last_boot = console.read_text(errors="replace").rsplit("Welcome to GRUB!", 1)[-1]
    except OSError:
        return False
    # a reboot's last word, or a panic's (panic=10: the kernel restarts without the reboot line)
    return silent > quiet_for and ("reboot: Restarting system" in last_boot or "Rebooting in " in last_boot)


def record(name: str, seconds: float) -> None:
    """A figure for docs/performance.md, kept in tests/artifacts/appliance-timings.json."""
    TIMINGS[name] = round(seconds, 1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "appliance-timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")


def count(name: str) -> None:
    """One more of `name` in appliance-timings.json (what the harness had to do, for docs/performance.md)."""
    record(name, TIMINGS.get(name, 0) + 1)


class Monitor:
    """One JSON line protocol over a unix socket: QMP (QEMU's monitor) or the guest agent's."""

    def __init__(self, path: Path, timeout: float):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.file = self.sock.makefile("rwb", buffering=0)

    def send(self, command: str, **arguments) -> None:
        message = {"execute": command, **({"arguments": arguments} if arguments else {})}
        self.file.write(json.dumps(message).encode() + b"\n")

    def receive(self) -> dict:
        while True:
            line = self.file.readline()
            if not line:
                raise ConnectionError("the monitor closed its socket")
            message = json.loads(line)
            if "event" not in message and "QMP" not in message:
                return message

    def call(self, command: str, **arguments):
        self.send(command, **arguments)
        answer = self.receive()
        if "error" in answer:
            raise RuntimeError(f"{command}: {answer['error']}")
        return answer.get("return")

    def close(self) -> None:
        self.sock.close()


@dataclass
class Result:
    status: int
    out: str
    err: str


class Appliance:
    """A booted image: `run` in the guest, `plug`/`unplug` sticks, `screendump`, `reboot`, `shutdown`.

    The image's disk.img (appliance/build-image.sh: GPT, ESP with GRUB, root slots A and B, data) stays
    as built: the VM writes into a qcow2 overlay of its own, which outlives a reboot of the guest (an
    update written to slot B is still there when GRUB chooses), and so do the firmware's variables."""

    def __init__(self, image_dir: Path, work: Path, host_port: int):
        self.image_dir, self.work, self.host_port = image_dir, work, host_port
        self.disk, self.firmware_vars = work / "disk.qcow2", work / "OVMF_VARS.fd"
        self.qmp_path, self.qga_path = work / "qmp.sock", work / "qga.sock"
        self.console = work / "console.log"
        self.sound = work / "sound.wav"
        self.process: subprocess.Popen | None = None
        self.qmp: Monitor | None = None
        self._agent: Monitor | None = None
        self._reset_pressed_at: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.host_port}"

    def boot(self) -> None:
        qemu = shutil.which("qemu-system-x86_64")
        assert qemu, "qemu-system-x86_64 is not installed: `make test` installs qemu-system-x86"
        assert OVMF_CODE.exists(), f"{OVMF_CODE} is missing: `make test` installs the Debian package ovmf"
        if not self.disk.exists():
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                            "-b", str(self.image_dir / "disk.img"), str(self.disk)], check=True)
            shutil.copy(OVMF_VARS, self.firmware_vars)
        command = [
            qemu, "-accel", "tcg", "-cpu", "max", "-m", "3072", "-smp", "2", "-display", "none",
            "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
            "-drive", f"if=pflash,format=raw,file={self.firmware_vars}",
            "-drive", f"file={self.disk},format=qcow2,if=virtio,cache=unsafe",
            "-serial", f"file:{self.console}",
            # the kiosk's portrait screen (UX.md: 1080 × 1920), the size every screen is laid out for
            "-vga", "none", "-device", "virtio-gpu-pci,xres=1080,yres=1920", "-device", "qemu-xhci,id=xhci",
            # the touchscreen on the controller's first port, where the lab's usbguard rule allows it
            # (appliance/lab/usbguard-devices.conf); no keyboard: a test plugs one in
            "-device", "usb-tablet,bus=xhci.0,port=1,id=touch",
            # a sound card whose output is a WAV file on the host: what the kiosk says, recorded
            "-audiodev", f"wav,id=snd0,path={self.sound}", "-device", "intel-hda",
            "-device", "hda-output,audiodev=snd0",
            "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{self.host_port}-:{GUEST_PORT}",
            "-device", "virtio-net-pci,netdev=n0",
            # the board's hardware watchdog, which systemd arms (appliance/system/watchdog.conf); QEMU
            # resets the machine when it is not petted
            "-device", "i6300esb",
            "-device", "virtio-serial-pci",
            "-chardev", f"socket,path={self.qga_path},server=on,wait=off,id=qga0",
            "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
            "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
        ]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=open(self.work / "qemu.stderr", "wb"), start_new_session=True)
        self.qmp = Monitor(self._wait_for(self.qmp_path, 30), timeout=60)
        self.qmp.receive_greeting = self.qmp.file.readline()
        self.qmp.call("qmp_capabilities")

    def _wait_for(self, path: Path, timeout: float) -> Path:
        deadline = time.monotonic() + timeout
        while not path.exists():
            assert self.process.poll() is None, (self.work / "qemu.stderr").read_text()
            assert time.monotonic() < deadline, f"{path} never appeared"
            time.sleep(0.1)
        return path

    # --- the guest agent --------------------------------------------------------------------------

    def wait_for_agent(self, timeout: float) -> None:
        """The guest agent starts with the guest's userspace: until it answers, the guest is booting."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"QEMU exited: {self.console.read_text()[-3000:]}"
            try:
                agent = Monitor(self.qga_path, timeout=3)
                token = int(time.monotonic() * 1000) % 1_000_000
                agent.send("guest-sync", id=token)
                if agent.receive().get("return") == token:
                    agent.sock.settimeout(AGENT_TIMEOUT)
                    self._agent = agent
                    return
            except (OSError, ConnectionError, ValueError):
                pass
            time.sleep(1)
        raise TimeoutError(f"no guest agent after {timeout} s; console:\n{self.console.read_text()[-3000:]}")

    def run(self, command: str, timeout: float = 120, check: bool = False, poll: float = 0.2) -> Result:
        """`sh -c command` in the guest as root; its exit status, stdout and stderr, asked for every `poll`
        seconds (the guest agent logs every question in the journal)."""
        if self._agent is None:
            self.wait_for_agent(60)
        pid = self._agent.call("guest-exec", path="/bin/sh", arg=["-c", command], **{"capture-output": True})["pid"]
        deadline = time.monotonic() + timeout
        while True:
            status = self._agent.call("guest-exec-status", pid=pid)
            if status["exited"]:
                break
            assert time.monotonic() < deadline, f"{command!r} still running after {timeout} s"
            time.sleep(poll)
        decode = lambda key: base64.b64decode(status.get(key, "")).decode(errors="replace")  # noqa: E731
        result = Result(status.get("exitcode", -1), decode("out-data"), decode("err-data"))
        if check:
            assert result.status == 0, f"{command!r} → {result.status}\n{result.out}\n{result.err}"
        return result

    def wait_until(self, command: str, timeout: float, interval: float = 1.0) -> float:
        """Run `command` in the guest until it succeeds; seconds it took."""
        start = time.monotonic()
        while True:
            if self.run(command).status == 0:
                return time.monotonic() - start
            assert time.monotonic() - start < timeout, f"{command!r} never succeeded within {timeout} s"
            time.sleep(interval)

    def clock(self) -> tuple[float, float]:
        """How to read the guest's clocks on the host's: (the guest's CLOCK_REALTIME minus its
        CLOCK_MONOTONIC, the guest's CLOCK_REALTIME minus the host's time.time()). A guest event at
        monotonic m (udevadm, systemd) happened at host time m + first - second; a guest file's mtime t at
        t - second. The second comes from the agent's guest-get-time (no process started: milliseconds)."""
        uptime, now = self.run("cat /proc/uptime; date +%s.%N", check=True).out.split()[::2]
        before = time.time()
        guest = self._agent.call("guest-get-time") / 1e9
        return float(now) - float(uptime), guest - (before + time.time()) / 2

    def boot_id(self) -> str:
        return self.run("cat /proc/sys/kernel/random/boot_id", check=True).out.strip()

    def reboot(self, timeout: float) -> float:
        """`systemctl reboot` in the guest, as a technician would; the same QEMU process goes on (the
        overlay and the firmware's variables with it). Seconds until the rebooted guest's agent answers."""
        before = self.boot_id()
        start = time.monotonic()
        # in two seconds, so that the agent still answers this command
        self.run("systemd-run --quiet --on-active=2 systemctl reboot", check=True)
        self.wait_for_new_boot(before, timeout)
        return time.monotonic() - start

    def wait_for_new_boot(self, before: str, timeout: float) -> str:
        """Until the guest agent answers from a boot other than `before` (the guest rebooted, by itself or
        told); that boot's id. A restart that hangs is rescued (`_rescue_hung_restart`), and each rescue
        gives the boot it starts the time a boot takes."""
        # the agent's socket is one connection: let it go, so that the next boot's agent is reached
        self._drop_agent()
        self._reset_pressed_at = None
        deadline = time.monotonic() + timeout
        while True:
            assert time.monotonic() < deadline, f"no new boot within {timeout} s; {self._hang_report()}"
            time.sleep(5)
            if self._rescue_hung_restart():
                deadline = max(deadline, time.monotonic() + RESCUED_BOOT_S)
            try:
                # half a minute at a time: a restart that hung is looked for in between
                self.wait_for_agent(min(30.0, max(1.0, deadline - time.monotonic())))
                now = self.boot_id()
                if now != before:
                    return now
            except (TimeoutError, AssertionError, RuntimeError, ConnectionError, OSError):
                pass
            self._drop_agent()

    def _rescue_hung_restart(self) -> bool:
        """Seen under emulation only, and past what the guest's own watchdog rescues: the kernel's last
        word ("reboot: Restarting system", or a panic's) and then no firmware, no GRUB. First the reset
        button (QMP `system_reset`); when even that brings no GRUB, the plug pulled and put back (a cold
        start of the same disk and firmware variables; OVMF hanging on a warm reset where a cold start
        boots is reported elsewhere too, tianocore/edk2#12441). Safe at that point: the kernel had synced and
        unmounted everything before its last word. Each press is counted in appliance-timings.json
        (docs/performance.md), so a run shows how often. Whether it acted."""
        if not restart_hung(self.console):
            return False
        now = time.monotonic()
        if self._reset_pressed_at is None:
            count("hung_restarts_reset_by_the_harness")
            self._reset_pressed_at = now
            try:
                self.qmp.call("system_reset")
                return True
            except (OSError, RuntimeError, ConnectionError):  # QEMU's monitor does not answer either
                pass
        elif now - self._reset_pressed_at < RESET_HUNG_AFTER_S:
            return False
        count("hung_resets_power_cycled_by_the_harness")
        self._reset_pressed_at = None
        self.power_cut()
        self.power_on()
        return True

    def _hang_report(self) -> str:
        """What a technician would look at when a boot never came: QEMU's state, the console's silence."""
        try:
            status = self.qmp.call("query-status")
        except (OSError, RuntimeError, ConnectionError) as exc:
            status = f"QMP does not answer ({exc})"
        silent = time.time() - self.console.stat().st_mtime if self.console.exists() else float("nan")
        rescues = {name: value for name, value in TIMINGS.items() if name.startswith("hung_")}
        return f"QEMU {status}; console silent for {silent:.0f} s; rescues {rescues}; console:\n{self.console_text()[-2000:]}"

    def _drop_agent(self) -> None:
        if self._agent is not None:
            self._agent.close()
            self._agent = None

    def power_cut(self) -> None:
        """The plug pulled: QEMU quits at once (QMP `quit`: the guest neither syncs nor shuts down; what
        it had written stays in the overlay as a disk would hold it). Sticks are gone with it."""
        self._drop_agent()
        self.shutdown()

    def power_on(self) -> None:
        """The same disk and firmware variables booted again after a power cut (returns at once)."""
        self.qmp.close()
        for socket_path in (self.qmp_path, self.qga_path):  # the dead QEMU's: boot() waits for new ones
            socket_path.unlink(missing_ok=True)
        if self.console.exists():  # each power-on's console apart (console_text() is this one's)
            self.console.rename(self.work / f"console-{len(list(self.work.glob('console-*.log'))) + 1}.log")
        self.boot()

    def console_text(self) -> str:
        """What firmware, GRUB and the kernel wrote on the serial console since this power-on."""
        return self.console.read_text(errors="replace") if self.console.exists() else ""

    # --- the monitor ------------------------------------------------------------------------------

    def screendump(self, png: Path) -> Path:
        """The VM's real display, as QEMU draws it, saved as PNG."""
        from PIL import Image

        ppm = self.work / "screen.ppm"
        self.qmp.call("screendump", filename=str(ppm))
        png.parent.mkdir(parents=True, exist_ok=True)
        Image.open(ppm).save(png)
        return png

    def loudest_sample(self) -> int:
        """The loudest 16-bit sample the guest's sound card has played so far (QEMU's wav audiodev)."""
        import array

        data = self.sound.read_bytes()[44:] if self.sound.exists() else b""
        samples = array.array("h", data[:len(data) // 2 * 2])
        return max((abs(sample) for sample in samples), default=0)

    def plug(self, image: Path, name: str = "stick", read_only: bool = False,
             write_bytes_per_second: int | None = None) -> None:
        """A USB stick on the emulated xHCI controller, as a customer plugs one in. A write limit makes
        a slow stick (a throttle node over it), one that can be pulled while the kiosk writes."""
        node = {"node-name": name, "driver": "raw", "read-only": read_only,
                "file": {"driver": "file", "filename": str(image)}}
        if write_bytes_per_second:
            self.qmp.call("object-add", **{"qom-type": "throttle-group", "id": f"{name}-limit",
                                           "limits": {"bps-write": write_bytes_per_second}})
            node = {"node-name": name, "driver": "throttle", "throttle-group": f"{name}-limit",
                    "file": {**node, "node-name": f"{name}-raw"}}
        self.qmp.call("blockdev-add", **node)
        self.qmp.call("device_add", driver="usb-storage", bus="xhci.0", drive=name, id=name, removable=True)

    def unplug(self, name: str = "stick") -> None:
        self.qmp.call("device_del", id=name)
        deadline = time.monotonic() + 30
        while True:  # the guest acknowledges the removal before the block node can go
            try:
                self.qmp.call("blockdev-del", **{"node-name": name})
                break
            except RuntimeError:
                assert time.monotonic() < deadline, "the stick's block node stayed in use"
                time.sleep(0.2)
        try:  # a slow stick's limit goes with it
            self.qmp.call("object-del", id=f"{name}-limit")
        except RuntimeError:
            pass

    def plug_keyboard(self, name: str = "keyboard") -> None:
        """A USB keyboard into the next free port, as anyone could plug one into the customer's port."""
        self.qmp.call("device_add", driver="usb-kbd", bus="xhci.0", id=name)

    def unplug_device(self, name: str) -> None:
        self.qmp.call("device_del", id=name)

    def keys(self, *combos: str) -> None:
        """Key combinations typed on the newest keyboard ("ctrl-n", "f12", "ctrl-shift-i"), one by one."""
        for combo in combos:
            self.qmp.call("send-key", keys=[{"type": "qcode", "data": key} for key in combo.split("-")])
            time.sleep(0.5)

    def tap(self, x: float, y: float) -> None:
        """A touch at (x, y) in fractions of the screen, through the usb-tablet (QEMU 7.2 has no
        multitouch device: the tablet is an absolute pointer whose button is the finger)."""
        position = [{"type": "abs", "data": {"axis": "x", "value": int(x * 32767)}},
                    {"type": "abs", "data": {"axis": "y", "value": int(y * 32767)}}]
        self.qmp.call("input-send-event", events=position)
        for down in (True, False):
            self.qmp.call("input-send-event", events=[{"type": "btn", "data": {"down": down, "button": "left"}}])
            time.sleep(0.1)

    def shutdown(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.qmp.call("quit")
            self.process.wait(timeout=20)
        except (OSError, RuntimeError, ConnectionError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)


PLACEHOLDER = b"PLACEHOLDR "


def stick_image(path: Path, label: str, size_mib: int = 64) -> Path:
    """A FAT32 stick as shops sell them: an MBR partition table and one partition at 1 MiB, made without
    loop devices (sfdisk, then mkfs.vfat with an offset). The label is written in CP949, the bytes a
    Korean Windows writes (mkfs.vfat cannot convert Hangul itself)."""
    with path.open("wb") as file:
        file.truncate(size_mib * 1024 * 1024)
    subprocess.run(["sfdisk", "-q", str(path)], input="start=2048, type=c\n", text=True, check=True)
    subprocess.run(["mkfs.vfat", "-F", "32", "-n", PLACEHOLDER.decode().strip(), "--offset=2048", str(path),
                    str(size_mib * 1024 - 1024)], check=True, capture_output=True)
    data = path.read_bytes()
    assert data.count(PLACEHOLDER) == 3
    path.write_bytes(data.replace(PLACEHOLDER, label.encode("cp949").ljust(11, b" ")))
    return path


def exfat_stick_image(path: Path, label: str, size_mib: int = 64) -> Path:
    """An exFAT stick: MBR, one partition at 1 MiB made by mkfs.exfat on a file, spliced in place."""
    with path.open("wb") as file:
        file.truncate(size_mib * 1024 * 1024)
    subprocess.run(["sfdisk", "-q", str(path)], input="start=2048, type=7\n", text=True, check=True)
    part = path.with_suffix(".part")
    with part.open("wb") as file:
        file.truncate((size_mib - 1) * 1024 * 1024)
    subprocess.run(["mkfs.exfat", "-L", label, str(part)], check=True, capture_output=True)
    with path.open("r+b") as target, part.open("rb") as source:
        target.seek(1024 * 1024)
        shutil.copyfileobj(source, target)
    part.unlink()
    return path


def partition(image: Path, out: Path) -> Path:
    """The stick's first partition (at 1 MiB) as its own file, for fsck.fat."""
    with image.open("rb") as source, out.open("wb") as target:
        source.seek(1024 * 1024)
        shutil.copyfileobj(source, target)
    return out

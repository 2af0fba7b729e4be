"""A real `python -m kiosk serve` on a free loopback port, as systemd would start it: optionally with a
NOTIFY_SOCKET (a real AF_UNIX datagram socket the test reads) and WATCHDOG_USEC. In demo mode it starts
the CA's process (`kiosk ca serve`) beside itself, as `make run` does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


class NotifySocket:
    """The receiving end of sd_notify(3): what the service manager would read."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)

    def receive(self, timeout: float) -> list[str]:
        """Every datagram until `timeout` passes without one more."""
        messages, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                continue
        return messages

    def wait_for(self, prefix: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            if any(line.startswith(prefix) for line in message.splitlines()):
                return message
        raise AssertionError(f"no {prefix!r} on the notify socket within {timeout}s")

    def close(self):
        self.sock.close()


class KioskProcess:
    def __init__(self, data_dir: Path, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # never the default 9108: engineers and CI run many kiosks on one machine at once
        self.metrics_port = free_port()
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        self.log_path = data_dir.parent / "kiosk.log"
        self.env = {**os.environ, "KIOSK_MODE": "demo", "KIOSK_DATA_DIR": str(data_dir),
                    "KIOSK_PORT": str(self.port), "KIOSK_METRICS_PORT": str(self.metrics_port),
                    # demo mode starts the CA's process beside the kiosk: on a port of its own too
                    "KIOSK_CA_LISTEN": f"127.0.0.1:{free_port()}",
                    "PYTHONUNBUFFERED": "1", **env}
        self.process = None

    def start(self) -> "KioskProcess":
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "kiosk", "serve"], cwd=REPO, env=self.env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def accepts_connections(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def wait_until_serving(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.accepts_connections():
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, "the kiosk did not start serving"
            time.sleep(0.05)

    def stop(self) -> int:
        """SIGTERM, as `systemctl stop` sends it; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        finally:
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

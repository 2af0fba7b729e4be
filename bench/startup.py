"""Start-up time to READY (a real NOTIFY_SOCKET, as systemd's Type=notify reads it) and resident memory
(VmRSS) after one whole journey, for `python -m kiosk serve` against a bare Flask app under the same
waitress server (bench/startup_bare.py), started the same way, interleaved round by round.

    .venv/bin/python -m bench.startup [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from bench.common import print_table, write_results
from bench.latency import Client, latest_code
from tests.walker import route_to

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start(command: list[str], env: dict, scratch: Path) -> tuple[subprocess.Popen, float]:
    """Spawn and wait for READY=1 on a fresh notify socket; returns the process and seconds to READY."""
    path = scratch / f"notify-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(60)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env={**env, "NOTIFY_SOCKET": str(path)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while "READY=1" not in sock.recv(4096).decode():
            pass
        return process, time.perf_counter() - started
    finally:
        sock.close()
        path.unlink()


def whole_journey(port: int, database: Path, drive: str = "post-office") -> Client:
    """Attract to done, as the customer's screen would: every step, issuance, write, eject onto the
    demo stick `drive`; returns the customer's client (its session still open)."""
    client = Client(port)
    client.follow("GET", "/")
    for path, form in route_to("drive", lambda: latest_code(database)):
        client.follow("POST", path, form)
    from hardware.drives import drive_id

    for _ in range(100):  # a stick just plugged in reaches the drive list on the watcher's next look
        if 'data-step="drive"' not in client.follow("POST", "/journey/drive", {"drive_id": drive_id("demo", drive)}):
            break
        time.sleep(0.1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, _, headers = client.request("GET", "/journey/issuing/status")
        location = {k.lower(): v for k, v in headers.items()}.get("hx-location")
        if location:
            path = re.search(r'"path": "([^"]+)"', location).group(1)
            page = client.follow("GET", urllib.parse.urlsplit(path).path)
            if "journey/done" not in path or "USB" not in page:
                raise RuntimeError(f"the journey ended at {path}")
            return client
        time.sleep(0.1)
    raise RuntimeError(f"issuance did not finish (last status {status})")


def bare_requests(port: int, count: int = 12) -> None:
    client = Client(port)
    for _ in range(count):
        client.follow("GET", "/")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(20)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.startup")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    samples: dict[str, list] = {"kiosk_ready": [], "bare_ready": [], "kiosk_rss": [], "bare_rss": [],
                                "kiosk_rss_at_ready": [], "bare_rss_at_ready": []}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        scratch = Path(tmp)
        for n in range(args.rounds):
            data_dir = scratch / f"var{n}"
            env = {**os.environ, "KIOSK_MODE": "demo", "KIOSK_DATA_DIR": str(data_dir), "KIOSK_LOG_LEVEL": "warning",
                   "KIOSK_CA_LISTEN": f"127.0.0.1:{free_port()}"}  # demo: the CA's process starts beside it
            subprocess.run([sys.executable, "-m", "kiosk", "init", "--demo"], cwd=REPO, env=env, check=True,
                           capture_output=True)
            port = free_port()
            kiosk, ready = start([sys.executable, "-m", "kiosk", "serve"],
                                 {**env, "KIOSK_PORT": str(port), "KIOSK_METRICS_PORT": str(free_port())}, scratch)
            try:
                samples["kiosk_ready"].append(ready)
                samples["kiosk_rss_at_ready"].append(rss_kib(kiosk.pid))
                whole_journey(port, data_dir / "kiosk.sqlite3")
                samples["kiosk_rss"].append(rss_kib(kiosk.pid))
            finally:
                stop(kiosk)
            port = free_port()
            bare, ready = start([sys.executable, "-m", "bench.startup_bare", str(port)], dict(os.environ), scratch)
            try:
                samples["bare_ready"].append(ready)
                samples["bare_rss_at_ready"].append(rss_kib(bare.pid))
                bare_requests(port)
                samples["bare_rss"].append(rss_kib(bare.pid))
            finally:
                stop(bare)
    med = {k: statistics.median(v) for k, v in samples.items()}
    rows = [
        ["start-up to READY=1 (ms)", med["kiosk_ready"] * 1000, med["bare_ready"] * 1000,
         med["kiosk_ready"] / med["bare_ready"]],
        ["VmRSS at READY (MiB)", med["kiosk_rss_at_ready"] / 1024, med["bare_rss_at_ready"] / 1024,
         med["kiosk_rss_at_ready"] / med["bare_rss_at_ready"]],
        ["VmRSS after a whole journey (MiB)", med["kiosk_rss"] / 1024, med["bare_rss"] / 1024,
         med["kiosk_rss"] / med["bare_rss"]],
    ]
    print_table(f"Start-up and memory, kiosk vs bare Flask under waitress (medians of {args.rounds})",
                ["measure", "kiosk", "bare Flask", "ratio"], rows)
    result = {"rounds": args.rounds, "samples": samples, "medians": med,
              "ratios": {"ready": rows[0][3], "rss_at_ready": rows[1][3], "rss_after_journey": rows[2][3]}}
    write_results("startup", result)
    return result


if __name__ == "__main__":
    main()

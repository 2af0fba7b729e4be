"""A day without drift: many whole journeys through one kiosk server process (new issuance onto a demo
stick over real HTTP, the customer starting over after each), watching what could pile up — resident
memory, open descriptors, threads, the SQLite files — against the first checkpoint of the same run.

    .venv/bin/python -m bench.soak [--journeys 1000] [--every 100]

Aim (issue 18): after the last journey RSS within 10% of after the first `--every` journeys; descriptors
and threads flat. A benchmark, not a test: it takes minutes (one RSA key and one write per journey).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import print_table, write_results
from bench.startup import REPO, free_port, rss_kib, start, whole_journey

STICK = "soak"


def process_state(pid: int, data_dir: Path) -> dict:
    """What one server process holds: memory, descriptors, threads, and the database on disk."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    database = (data_dir / "kiosk.sqlite3").stat().st_size
    wal = data_dir / "kiosk.sqlite3-wal"
    fds = list(Path(f"/proc/{pid}/fd").iterdir())
    return {"rss_kib": rss_kib(pid), "fds": len(fds), "threads": int(status["Threads"]), "sqlite_bytes": database,
            "wal_bytes": wal.stat().st_size if wal.exists() else 0, "fd_kinds": fd_kinds(fds)}


def fd_kinds(fds: list[Path]) -> dict[str, int]:
    """Open descriptors by what they point at (socket, pipe, a file by name): what a leak would be."""
    kinds: dict[str, int] = {}
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        kind = target.split(":", 1)[0] if ":" in target else Path(target).name
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def one_journey(port: int, data_dir: Path) -> None:
    """A fresh stick plugged in, a whole new issuance onto it, the customer starts over, the stick leaves."""
    from hardware.demo import insert_demo_drive, remove_demo_drive

    insert_demo_drive(data_dir, STICK, label="SOAK")
    time.sleep(0.05)  # the demo drive watcher sees it (the customer takes longer than this to get there)
    client = whole_journey(port, data_dir / "kiosk.sqlite3", drive=STICK)
    client.follow("POST", "/reset", {})
    remove_demo_drive(data_dir, STICK)


def serve(scratch: Path, data_dir: Path, port: int) -> subprocess.Popen:
    """`kiosk init --demo` and `python -m kiosk serve`, as a branch runs it (waitress, READY=1)."""
    env = {**os.environ, "KIOSK_MODE": "demo", "KIOSK_DATA_DIR": str(data_dir), "KIOSK_LOG_LEVEL": "warning",
           "KIOSK_PORT": str(port), "KIOSK_METRICS_PORT": str(free_port()),
           "KIOSK_CA_LISTEN": f"127.0.0.1:{free_port()}"}  # the CA's process, started beside the kiosk
    subprocess.run([sys.executable, "-m", "kiosk", "init", "--demo"], cwd=REPO, env=env, check=True,
                   capture_output=True)
    return start([sys.executable, "-m", "kiosk", "serve"], env, scratch)[0]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    parser.add_argument("--journeys", type=int, default=1000)
    parser.add_argument("--every", type=int, default=100, help="a checkpoint after this many journeys")
    args = parser.parse_args(argv)
    checkpoints, failures = [], []
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        scratch, port = Path(tmp), free_port()
        data_dir = scratch / "var"
        server = serve(scratch, data_dir, port)
        try:
            started = time.perf_counter()
            checkpoints.append({"journeys": 0, "seconds": 0.0, **process_state(server.pid, data_dir)})
            for n in range(1, args.journeys + 1):
                try:
                    one_journey(port, data_dir)
                except RuntimeError as exc:  # counted and shown, the run goes on: a day has bad moments
                    failures.append(f"journey {n}: {exc}")
                    print(failures[-1], flush=True)
                if n % args.every == 0 or n == args.journeys:
                    state = process_state(server.pid, data_dir)
                    checkpoints.append({"journeys": n, "seconds": time.perf_counter() - started, **state})
                    print(f"{n} journeys: {state}", flush=True)
        finally:
            server.terminate()
            server.wait(20)
    return report(args, checkpoints, failures)


def report(args, checkpoints: list[dict], failures: list[str]) -> dict:
    first = next(c for c in checkpoints if c["journeys"] >= args.every) if len(checkpoints) > 1 else checkpoints[0]
    last = checkpoints[-1]
    rows = [[c["journeys"], c["seconds"], c["rss_kib"] / 1024, c["rss_kib"] / first["rss_kib"], c["fds"],
             c["threads"], c["sqlite_bytes"] / 1024, c["wal_bytes"] / 1024] for c in checkpoints]
    print_table(f"One server process through {args.journeys} whole journeys",
                ["journeys", "s", "RSS MiB", f"RSS / after {first['journeys']}", "descriptors", "threads",
                 "SQLite KiB", "WAL KiB"], rows)
    ratio = last["rss_kib"] / first["rss_kib"]
    print(f"\nRSS after {last['journeys']} / after {first['journeys']}: {ratio:.3f} (aim <= 1.10); descriptors "
          f"{first['fds']} → {last['fds']}, threads {first['threads']} → {last['threads']} (aim: flat)")
    print(f"journeys that failed: {len(failures)}")
    return write_results("soak", {"journeys": args.journeys, "checkpoints": checkpoints, "rss_ratio": ratio,
                                  "failures": failures})


if __name__ == "__main__":
    main()

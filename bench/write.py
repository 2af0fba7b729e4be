"""Benchmark: delivering a bundle (durable write + read-back verify) against a plain copy + fsync of the
same bytes, on the same real FAT filesystem (mkfs.vfat image through fusefat). The ratio is what matters;
absolute times depend on the machine. Results go to bench/results/write-<time>.json.

    .venv/bin/python -m bench.write [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from hardware.write import write_bundle

RESULTS = Path(__file__).resolve().parent / "results"
DN_FOLDER = "NPKI/yessign/USER/cn=HongGildong()0011041201201228111000371,ou=KPB,ou=personal4IB,o=yessign,c=kr"


def bundle(round_number: int) -> list[tuple[str, bytes]]:
    # a real bundle's sizes: signCert.der about 1.6 KB, signPri.key about 1.3 KB
    return [(f"{DN_FOLDER}-{round_number}/signCert.der", os.urandom(1600)),
            (f"{DN_FOLDER}-{round_number}/signPri.key", os.urandom(1300))]


def plain_copy(root: Path, files: list[tuple[str, bytes]]) -> None:
    """The baseline: create the folders, write each file, fsync it. No verify, no renames."""
    for relative, data in files:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def mount_fat(workdir: Path) -> tuple[subprocess.Popen, Path]:
    for tool in ("mkfs.vfat", "fusefat", "fusermount"):
        if shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") is None:
            raise SystemExit(f"{tool} is missing: install dosfstools, fusefat and fuse3")
    image, mountpoint = workdir / "stick.img", workdir / "mnt"
    with open(image, "wb") as f:
        f.truncate(64 * 1024 * 1024)
    subprocess.run(["mkfs.vfat", str(image)], check=True, capture_output=True)
    mountpoint.mkdir()
    daemon = subprocess.Popen(["fusefat", "-f", "-o", "rw+", str(image), str(mountpoint)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not os.path.ismount(mountpoint):
        if time.monotonic() > deadline:
            raise SystemExit("fusefat did not mount")
        time.sleep(0.02)
    return daemon, mountpoint


def measure(action, rounds: int) -> list[float]:
    times = []
    for number in range(rounds):
        started = time.perf_counter()
        action(number)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        daemon, root = mount_fat(Path(workdir))
        try:
            baseline = measure(lambda n: plain_copy(root / "plain", bundle(n)), args.rounds)
            kiosk = measure(lambda n: write_bundle(root, bundle(n), f"{DN_FOLDER}-{n}"), args.rounds)
        finally:
            subprocess.run(["fusermount", "-u", str(root)], check=False)
            daemon.wait(timeout=10)
    result = {
        "benchmark": "bundle write + verify vs plain copy + fsync (fusefat, same image)",
        "rounds": args.rounds,
        "baseline_median_s": statistics.median(baseline),
        "kiosk_median_s": statistics.median(kiosk),
        "ratio": statistics.median(kiosk) / statistics.median(baseline),
        "machine": platform.platform(),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"write-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()

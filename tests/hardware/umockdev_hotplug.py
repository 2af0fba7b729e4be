"""Run under `umockdev-wrapper` by test_umockdev.py: a DriveManager on the udev backend watches a
umockdev testbed while sticks are plugged in and pulled out; prints one JSON report on stdout.

    umockdev-wrapper python tests/hardware/umockdev_hotplug.py FIXTURES_DIR DATA_DIR
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

from hardware import DriveManager  # noqa: E402


def sys_paths(description: str) -> list[str]:
    return ["/sys" + line[3:] for line in description.splitlines() if line.startswith("P: ")]


def main(fixtures: Path, data_dir: Path) -> None:
    testbed = UMockdev.Testbed.new()
    manager = DriveManager.from_backend("mount", data_dir, mountinfo=fixtures / "mountinfo-sd-root")
    updates: list[tuple[float, list[dict]]] = []
    arrived = threading.Condition()

    def on_change(drives):
        with arrived:
            updates.append((time.monotonic(), [{"device": d.device, "reason": d.reason} for d in drives]))
            arrived.notify_all()

    manager.subscribe(on_change)
    manager.start()
    report = {"initial": [d.device for d in manager.drives()], "steps": []}
    for name in ("partitioned-stick", "write-protected-stick"):
        description = (fixtures / f"{name}.umockdev").read_text()
        testbed.add_from_string(description)
        report["steps"].append(step(f"add {name}", lambda d=description: emit(testbed, d, "add"), updates,
                                    arrived))
    stick = (fixtures / "partitioned-stick.umockdev").read_text()
    report["steps"].append(step("remove partitioned-stick", lambda: remove(testbed, stick), updates, arrived))
    manager.stop()
    print(json.dumps(report))


def emit(testbed, description: str, action: str) -> None:
    for path in sys_paths(description):
        if "/block/" in path:
            testbed.uevent(path, action)


def remove(testbed, description: str) -> None:
    for path in reversed(sys_paths(description)):
        if "/block/" in path:
            testbed.uevent(path, "remove")
    for path in reversed(sys_paths(description)):
        testbed.remove_device(path)


def step(label, action, updates, arrived) -> dict:
    with arrived:
        seen = len(updates)
    action()
    with arrived:
        arrived.wait_for(lambda: len(updates) > seen, timeout=3)
        got = updates[seen:]
    time.sleep(0.3)  # anything more would be a second update for the same stick
    with arrived:
        extra = len(updates) - seen - len(got)
    if not got:
        return {"step": label, "updates": 0}
    return {"step": label, "updates": len(got) + extra, "drives": got[-1][1]}


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

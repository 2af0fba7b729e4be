"""Run under `umockdev-wrapper` by test_umockdev.py: the udev listener's observer thread is slow to get
going (as on a loaded machine) while a stick is plugged in; prints {"poked": bool} as JSON.

The delay is the one thing simulated: pyudev's MonitorObserver.run waits until after the uevent.

    umockdev-wrapper python tests/hardware/umockdev_slow_observer.py FIXTURES_DIR
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import gi

gi.require_version("UMockdev", "1.0")
import pyudev  # noqa: E402
from gi.repository import UMockdev  # noqa: E402
from umockdev_hotplug import emit  # noqa: E402

from hardware.watch import udev_listener  # noqa: E402


def main(fixtures: Path) -> None:
    testbed = UMockdev.Testbed.new()
    thread_may_run = threading.Event()
    original_run = pyudev.MonitorObserver.run

    def slow_run(observer):
        thread_may_run.wait(5)
        original_run(observer)

    pyudev.MonitorObserver.run = slow_run
    poked = threading.Event()
    stop_listening = udev_listener(pyudev.Context())(poked.set)
    description = (fixtures / "partitioned-stick.umockdev").read_text()
    testbed.add_from_string(description)
    emit(testbed, description, "add")   # plugged in before the observer thread got to run
    thread_may_run.set()
    print(json.dumps({"poked": poked.wait(3)}))
    stop_listening()


if __name__ == "__main__":
    main(Path(sys.argv[1]))

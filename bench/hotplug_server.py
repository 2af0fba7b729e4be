"""The server side of bench.hotplug, started under `umockdev-wrapper`: the kiosk on the udev backend
(`mount`) watching an in-process umockdev testbed, plus, on the same waitress server, a bare SSE endpoint
(the baseline) and two control endpoints that plug a stick in (uevent) or fire the bare event, each
answering with the time.time() at which it acted.

    umockdev-wrapper python -m bench.hotplug_server DATA_DIR PORT
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "hardware" / "fixtures" / "partitioned-stick.umockdev"

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>hotplug</title>
<script src="/static/vendor/htmx/htmx-2.0.11.min.js"></script>
<script src="/static/vendor/htmx/htmx-ext-sse-2.2.4.js"></script></head>
<body hx-ext="sse"><div class="drive-live" sse-connect="{src}" sse-swap="drives"><div id="drive-list"></div></div>
</body></html>"""


def sys_paths(description: str) -> list[str]:
    return ["/sys" + line[3:] for line in description.splitlines() if line.startswith("P: ")]


def main() -> None:
    from flask import Flask, Response
    from waitress import serve
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from kiosk.web import create_app

    testbed = UMockdev.Testbed.new()
    description = FIXTURE.read_text()
    kiosk = create_app({"data_dir": sys.argv[1], "drives_backend": "mount", "log_level": "warning"})
    # the drive watcher started when the kiosk was wired: it watches before the first plug
    bench = Flask("bench")
    fired = threading.Condition()
    state = {"n": 0, "present": False}

    @bench.get("/page/<kind>")
    def page(kind):
        return PAGE.format(src="/drives/stream" if kind == "kiosk" else "/bench/bare-stream")

    @bench.get("/bare-stream")
    def bare_stream():
        def events():
            seen = state["n"]
            yield "event: drives\ndata: <div id=\"drive-list\"></div>\n\n"
            while True:
                with fired:
                    fired.wait_for(lambda seen=seen: state["n"] != seen, timeout=15)
                    seen, present = state["n"], state["present"]
                inner = '<button class="button drive">BARE</button>' if present else ""
                yield f'event: drives\ndata: <div id="drive-list" class="drive-list">{inner}</div>\n\n'
        return Response(events(), mimetype="text/event-stream", headers={"Cache-Control": "no-store"})

    @bench.post("/bare/<action>")
    def bare(action):
        at = time.time()
        with fired:
            state["n"] += 1
            state["present"] = action == "plug"
            fired.notify_all()
        return {"at": at}

    plugged: list[str] = []

    @bench.post("/udev/plug")
    def plug():
        # umockdev cannot add a removed device again: each plug is a new stick on a new port
        n = state["n"] = state["n"] + 1
        stick = description.replace("1-2", f"1-{n + 10}").replace("sdb", f"sd{chr(97 + n // 26)}{chr(97 + n % 26)}")
        testbed.add_from_string(stick)
        plugged.append(stick)
        at = time.time()
        for path in sys_paths(stick):
            if "/block/" in path:
                testbed.uevent(path, "add")
        return {"at": at}

    @bench.post("/udev/unplug")
    def unplug():
        stick = plugged.pop()
        at = time.time()
        for path in reversed(sys_paths(stick)):
            if "/block/" in path:
                testbed.uevent(path, "remove")
        for path in reversed(sys_paths(stick)):
            testbed.remove_device(path)
        return {"at": at}

    app = DispatcherMiddleware(kiosk, {"/bench": bench})
    serve(app, host="127.0.0.1", port=int(sys.argv[2]), threads=16, ident="bench", _quiet=True)


if __name__ == "__main__":
    main()

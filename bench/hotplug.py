"""Hot-plug latency: a umockdev uevent → the udev watcher → the kiosk's SSE drive stream → the drive in
Chromium's DOM, against an SSE event sent by a bare endpoint on the same server reaching the DOM.

The server (bench/hotplug_server.py) runs under `umockdev-wrapper`; the time of the trigger is the
server's time.time() just before the uevent (or the bare event); the time of arrival is
performance.timeOrigin + performance.now() in a MutationObserver in the page. Same machine, same clock.
Aim (issue 9): under 300 ms at p95.

    .venv/bin/python -m bench.hotplug [--rounds 30]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.common import print_table, summary, write_results
from bench.startup import free_port

CHROMIUM = "/usr/bin/chromium"
OBSERVE = """(present) => { window.__seen = null;
  const done = () => { window.__seen = performance.timeOrigin + performance.now(); observer.disconnect(); };
  const check = () => { if (!!document.querySelector('#drive-list .drive') === present) done(); };
  const observer = new MutationObserver(check);
  observer.observe(document.body, {childList: true, subtree: true}); }"""


def post(base: str, path: str) -> float:
    request = urllib.request.Request(base + path, data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["at"]


def rounds_for(page, base: str, kind: str, rounds: int) -> list[float]:
    page.goto(f"{base}/bench/page/{kind}")
    page.wait_for_selector("#drive-list", state="attached")
    time.sleep(0.5)  # the SSE stream is connected and its first event swapped in
    samples = []
    for _ in range(rounds):
        for action, present in (("plug", True), ("unplug", False)):
            page.evaluate(OBSERVE, present)
            at = post(base, f"/bench/{'bare' if kind == 'bare' else 'udev'}/{action}")
            page.wait_for_function("window.__seen !== null", timeout=5000)
            if action == "plug":
                samples.append(page.evaluate("window.__seen") / 1000 - at)
            time.sleep(0.15)  # past the watcher's debounce, so the next plug is a new event
    return samples


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.hotplug")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    wrapper = shutil.which("umockdev-wrapper")
    if wrapper is None:
        raise SystemExit("umockdev-wrapper is missing: install the Debian package umockdev")
    from playwright.sync_api import sync_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-hotplug-") as tmp:
        server = subprocess.Popen([wrapper, sys.executable, "-m", "bench.hotplug_server", tmp, str(port)],
                                  cwd=Path(__file__).resolve().parents[1])
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(base + "/bench/page/bare", timeout=1).read()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the hot-plug bench server did not start") from None
                    time.sleep(0.1)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                samples = {}
                for kind in ("bare", "kiosk"):
                    context = browser.new_context()
                    samples[kind] = rounds_for(context.new_page(), base, kind, args.rounds)
                    context.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(10)
    bare, kiosk = summary(samples["bare"]), summary(samples["kiosk"])
    rows = [["bare SSE endpoint → DOM", bare["p50_ms"], bare["p95_ms"], 1.0, 1.0],
            ["uevent → watcher → SSE → DOM", kiosk["p50_ms"], kiosk["p95_ms"],
             kiosk["p50_ms"] / bare["p50_ms"], kiosk["p95_ms"] / bare["p95_ms"]]]
    print_table(f"Hot-plug latency ({args.rounds} plugs each, ms)",
                ["path", "p50 ms", "p95 ms", "p50 ratio", "p95 ratio"], rows)
    print(f"\nuevent to DOM p95: {kiosk['p95_ms']:.1f} ms (aim < 300 ms)")
    return write_results("hotplug", {"rounds": args.rounds, "bare": bare, "kiosk": kiosk, "samples": samples,
                                     "ratio_p50": rows[1][3], "ratio_p95": rows[1][4]})


if __name__ == "__main__":
    main()

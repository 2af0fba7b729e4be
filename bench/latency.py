"""Page latency of every journey step through the real WSGI server (waitress, in its own process) with
1, 8 and 32 concurrent clients, against a bare Flask endpoint served by the same server.

Aim (issue 9): every step within 2x the bare endpoint at p50; no step's p99 above 50 ms at 8 clients.
Each client holds its own customer session walked to the step being measured (setup is not timed), and
alternates its requests for the step with requests for the bare endpoint on a connection of its own: the
floor of each step is measured in the same moments as the step, so the shared machine's noise (which
moves the bare endpoint's p50 by 2x from one minute to the next) falls on both alike.
Steps are asked for as the kiosk's page asks for them after the first load, an htmx swap of #screen
(HX-Request, HX-Target: screen); `--full` times whole-page loads instead.

    .venv/bin/python -m bench.latency [--clients 1 8 32] [--full]
"""

from __future__ import annotations

import http.client
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench.common import print_table, summary, write_results
from tests.walker import route_to

CONCURRENCY = (1, 8, 32)
REQUESTS_PER_CLIENT = 60
STEPS = ["attract", "service", "consent", "identity", "account", "email", "password", "password_check", "drive"]


class Client:
    """One kiosk screen: a keep-alive connection, the session cookie, the CSRF token."""

    def __init__(self, port: int, htmx: bool = False):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""
        self.token = ""
        self.htmx = htmx

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, dict]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if self.htmx:  # as the kiosk's page asks for every step after the first: a swap of #screen
            headers |= {"HX-Request": "true", "HX-Target": "screen"}
        body = None
        if form is not None:
            body = urllib.parse.urlencode({"csrf_token": self.token, **form})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        for value in response.headers.get_all("Set-Cookie") or []:
            if value.startswith("kiosk_sid="):
                self.cookie = value.split(";", 1)[0]
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text) or re.search(r'"X-CSRFToken": "([^"]+)"', text)
        if found:
            self.token = found.group(1)
        return response.status, text, dict(response.headers)

    def follow(self, method: str, path: str, form: dict | None = None) -> str:
        status, text, headers = self.request(method, path, form)
        while status in (302, 303):
            status, text, headers = self.request("GET", urllib.parse.urlsplit(headers["Location"]).path)
        return text


def latest_code(database: Path) -> str:
    with sqlite3.connect(database) as db:
        body = db.execute("SELECT body FROM demo_outbox ORDER BY id DESC LIMIT 1").fetchone()[0]
    return re.search(r"\b(\d{6})\b", body).group(1)


def walk(client: Client, step: str, database: Path) -> str:
    """Bring the client's session to `step` (the route of tests/walker.py); returns the path to time."""
    client.follow("GET", "/")
    if step == "attract":
        return "/"
    page = "password" if step == "password_check" else step
    for path, form in route_to(page, lambda: latest_code(database)):
        client.follow("POST", path, form)
    return f"/journey/{page}"


def hammer(clients: list[Client], method: str, path: str, form: dict | None) -> tuple[list[float], list[float]]:
    """The step's times and, taken between them by the same clients, the bare endpoint's."""
    samples: list[float] = []
    floor: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(len(clients))

    def timed(client: Client, method: str, path: str, form: dict | None) -> float:
        t0 = time.perf_counter()
        status, _, _ = client.request(method, path, form)
        elapsed = time.perf_counter() - t0
        if status >= 400:
            raise RuntimeError(f"{path}: HTTP {status}")
        return elapsed

    def run(client: Client):
        bare = Client(client.port)
        mine, theirs = [], []
        start.wait()
        for _ in range(REQUESTS_PER_CLIENT):
            mine.append(timed(client, method, path, form))
            theirs.append(timed(bare, "GET", "/bare/", None))
        with lock:
            samples.extend(mine)
            floor.extend(theirs)

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples, floor


def start_server(data_dir: Path, port: int, module: str = "bench.latency_app") -> subprocess.Popen:
    """The benchmark's server (`module DATA_DIR PORT`) in its own process, once it accepts connections."""
    process = subprocess.Popen([sys.executable, "-m", module, str(data_dir), str(port)],
                               cwd=Path(__file__).resolve().parents[1])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the benchmark server did not start")


def main(argv: list[str] | None = None) -> None:
    import argparse
    import socket

    parser = argparse.ArgumentParser(prog="python -m bench.latency")
    parser.add_argument("--clients", type=int, nargs="+", default=list(CONCURRENCY))
    parser.add_argument("--full", action="store_true", help="time full page loads, not htmx swaps of #screen")
    args = parser.parse_args(argv)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        server = start_server(data_dir, port)
        try:
            results = measure(port, data_dir / "kiosk.sqlite3", args.clients, not args.full)
        finally:
            server.terminate()
            server.wait(10)
    report(results)


def measure(port: int, database: Path, concurrency: list[int], htmx: bool) -> dict:
    results: dict = {}
    for n in concurrency:
        results[n] = {}
        for step in STEPS:
            clients = [Client(port) for _ in range(n)]
            path = ""
            for client in clients:
                path = walk(client, step, database)
                client.htmx = htmx
            if step == "password_check":
                samples, floor = hammer(clients, "POST", "/journey/password/check", {"password": "Kiosk!25"})
            else:
                samples, floor = hammer(clients, "GET", path, None)
            results[n][step] = {**summary(samples), "floor": summary(floor)}
    return results


def report(results: dict) -> None:
    rows = []
    for n, by_step in results.items():
        for step, s in by_step.items():
            bare = s["floor"]
            rows.append([n, step, s["p50_ms"], s["p99_ms"], bare["p50_ms"], bare["p99_ms"],
                         s["p50_ms"] / bare["p50_ms"], s["p99_ms"] / bare["p99_ms"]])
    print_table("Page latency through waitress (ms) and ratio to the bare Flask endpoint, timed in turn",
                ["clients", "step", "p50 ms", "p99 ms", "bare p50 ms", "bare p99 ms", "p50 ratio", "p99 ratio"],
                rows)
    worst_p50 = max(r[6] for r in rows)
    worst_p99_8 = max((r[3] for r in rows if r[0] == 8), default=float("nan"))
    print(f"\nworst p50 ratio: {worst_p50:.2f}x (aim <= 2x); worst p99 at 8 clients: {worst_p99_8:.1f} ms (aim <= 50 ms)")
    write_results("latency", {"results": results, "worst_p50_ratio": worst_p50, "worst_p99_ms_at_8": worst_p99_8})


if __name__ == "__main__":
    main()

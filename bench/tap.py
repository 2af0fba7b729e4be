"""Tap → painted: what a customer feels, measured from outside in Chromium, against a floor measured in
the same run.

A touch tap (Playwright, CDP touch events) on a step's button at the kiosk's 1080x1920 screen; the time
runs from the touchstart's timestamp to one animation frame after the next step's #screen is in the DOM
(a MutationObserver). The floor is the same page — the step's HTML captured from the kiosk, the same
htmx, scripts and styles — whose button swaps a fixed #screen fragment from a bare endpoint of the same
server (bench/tap_app.py): what any server could do at best, with this page in this browser. Both run
interleaved at CPU throttle 1x and 4x (CDP Emulation.setCPUThrottlingRate: kiosk hardware is slower).

Also reported: bytes on the wire per step (a first full load, by resource type; and a tap's swap), and
cold start, from launching the browser to the attract screen painted (fonts included).
`--trace DIR` writes a Chromium performance trace of a few taps per side and prints where the renderer's
main thread spent them.

    .venv/bin/python -m bench tap        (defaults)
    .venv/bin/python -m bench.tap [--taps 20] [--cold 5] [--trace DIR]

Aim (issue 18): tap → painted p95 within 1.3x the floor at 1x and at 4x.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import print_table, summary, write_results
from bench.latency import Client, start_server, walk
from bench.startup import free_port

CHROMIUM = "/usr/bin/chromium"
SCREEN = {"width": 1080, "height": 1920}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
THROTTLES = (1, 4)
AIM = 1.3
IDENTITY = {"#name": "홍길동", "#rrn_front": "900101", "#rrn_back": "1234568", "#issue_date": "20150302"}

# installed before the tap: the touch's timestamp, then one frame after the next step's #screen arrives
OBSERVE = """(step) => { const t = window.__tap = {start: null, end: null};
  addEventListener('touchstart', (e) => { if (t.start === null) t.start = e.timeStamp; }, {capture: true, once: true});
  const seen = () => { if (!document.querySelector(`#screen[data-step="${step}"]`)) return;
    observer.disconnect(); requestAnimationFrame(() => { t.end = performance.now(); }); };
  const observer = new MutationObserver(seen);
  observer.observe(document.body, {childList: true, subtree: true}); }"""
PAINTED = """() => document.fonts.ready.then(() => new Promise((done) => requestAnimationFrame(() =>
  requestAnimationFrame(() => done(performance.now())))))"""


@dataclass
class Transition:
    """One tap from step `source` to step `target`, and what the customer does on `source` before it."""

    source: str
    target: str
    button: str
    checks: tuple[str, ...] = ()
    fields: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.source}→{self.target}"

    @property
    def key(self) -> str:
        return f"{self.source}-{self.target}"


TRANSITIONS = [
    Transition("attract", "service", "#start"),
    Transition("service", "consent", "#service-new"),
    Transition("consent", "identity", "#consent-next", checks=("#terms", "#privacy")),
    Transition("identity", "account", "#identity-next", fields=IDENTITY),
]


# --- the floor's files: captured from the kiosk once -------------------------------------------------

def screen_of(page: str) -> str:
    """The #screen element of a full page (its div and everything up to the matching </div>)."""
    start = page.index('<div id="screen"')
    depth, at = 0, start
    for tag in re.finditer(r"<div\b|</div>", page[start:]):
        depth += 1 if tag.group() == "<div" else -1
        if depth == 0:
            at = start + tag.end()
            break
    return page[start:at]


def floor_page(page: str, key: str) -> str:
    """The captured page with every link and form sent to the floor's endpoint (static files stay)."""
    return re.sub(r'((?:action|href|hx-post|hx-get)=")/(?!static/)', rf"\1/floor/{key}/", page)


def capture_floor(port: int, database: Path, floor_dir: Path) -> None:
    for t in TRANSITIONS:
        client = Client(port)
        path = walk(client, t.source, database)
        _, source_page, _ = client.request("GET", path)
        target = Client(port)
        _, target_page, _ = target.request("GET", walk(target, t.target, database))
        directory = floor_dir / t.key
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "page.html").write_text(floor_page(source_page, t.key))
        (directory / "fragment.html").write_text(screen_of(target_page))


# --- the browser side ----------------------------------------------------------------------------------

class PageClient(Client):
    """bench.latency's Client over the browser context's own cookies (page.request), to walk a session."""

    def __init__(self, page):
        self.page = page
        self.token = ""

    def request(self, method: str, path: str, form: dict | None = None):
        if form is None:
            response = self.page.request.fetch(path, method=method, max_redirects=0)
        else:
            response = self.page.request.fetch(path, method=method, form={"csrf_token": self.token, **form},
                                               max_redirects=0)
        text = response.text()
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
        if found:
            self.token = found.group(1)
        return response.status, text, response.headers | {"Location": response.headers.get("location", "")}


def open_source(page, t: Transition, kind: str, database: Path) -> None:
    """Load the source step (kiosk: a fresh visit walked there; floor: the captured page), ready to tap."""
    if kind == "kiosk":
        client = PageClient(page)
        client.follow("GET", "/")
        client.follow("POST", "/reset", {})
        page.goto(walk(client, t.source, database))
    else:
        page.goto(f"/floor/{t.key}/page")
    page.wait_for_load_state("load")
    page.evaluate(PAINTED)
    for selector in t.checks:
        page.locator(selector).tap()
    for selector, value in t.fields.items():
        page.fill(selector, value)
    page.evaluate("() => { window.kioskKeyboard && window.kioskKeyboard.close(); document.activeElement.blur(); }")
    page.wait_for_timeout(100)  # the page is idle: nothing of the set-up is inside the timing


def tap_once(page, t: Transition) -> float:
    page.evaluate(OBSERVE, t.target)
    page.locator(t.button).tap()
    page.wait_for_function("() => window.__tap.end !== null", polling=100, timeout=20_000)  # no work each frame
    start, end = page.evaluate("[window.__tap.start, window.__tap.end]")
    return (end - start) / 1000


class Wire:
    """Bytes on the wire by resource type, from the page's CDP Network events."""

    def __init__(self, cdp):
        self.types: dict[str, str] = {}
        self.bytes: dict[str, int] = {}
        cdp.send("Network.enable")
        cdp.on("Network.responseReceived", lambda e: self.types.__setitem__(e["requestId"], e["type"]))
        cdp.on("Network.loadingFinished", self._finished)

    def _finished(self, event) -> None:
        kind = self.types.get(event["requestId"], "Other")
        self.bytes[kind] = self.bytes.get(kind, 0) + int(event["encodedDataLength"])

    def take(self) -> dict[str, int]:
        taken, self.bytes = self.bytes, {}
        return taken


def new_page(browser, base: str, throttle: int):
    context = browser.new_context(viewport=SCREEN, has_touch=True, locale="ko-KR", base_url=base)
    page = context.new_page()
    page.set_default_timeout(20_000)
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
    return context, page, cdp


def measure_taps(browser, base: str, database: Path, taps: int) -> dict:
    """Kiosk and floor interleaved tap by tap, per throttle and transition."""
    results: dict = {}
    for throttle in THROTTLES:
        sides = {kind: new_page(browser, base, throttle) for kind in ("kiosk", "floor")}
        for t in TRANSITIONS:
            samples: dict[str, list[float]] = {"kiosk": [], "floor": []}
            for _ in range(taps):
                for kind, (_, page, _) in sides.items():
                    open_source(page, t, kind, database)
                    samples[kind].append(tap_once(page, t))
            results[f"{throttle}x {t.name}"] = {kind: summary(s) for kind, s in samples.items()}
        for context, _, _ in sides.values():
            context.close()
    return results


def measure_bytes(browser, base: str, database: Path) -> dict:
    """Per step: a first load with an empty cache, by type; then the tap's swap (the next step)."""
    results = {}
    for t in TRANSITIONS:
        for kind in ("kiosk", "floor"):
            context, page, cdp = new_page(browser, base, 1)
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            wire = Wire(cdp)
            open_source(page, t, kind, database)
            load = wire.take()
            tap_once(page, t)
            page.wait_for_timeout(300)
            results[f"{t.name} {kind}"] = {"load": load, "tap": wire.take()}
            context.close()
    return results


def cold_start(playwright, url: str) -> dict:
    """Launch → the page painted (fonts ready, two frames): wall time from Python, and the page's FCP."""
    started = time.perf_counter()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    launched = time.perf_counter()
    page = browser.new_page(viewport=SCREEN, has_touch=True, locale="ko-KR")
    page.goto(url)
    page.evaluate(PAINTED)
    painted = time.perf_counter()
    fcp = page.evaluate("(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || 0")
    browser.close()
    return {"launch_s": launched - started, "painted_s": painted - started, "fcp_ms": fcp}


def measure_cold(playwright, base: str, rounds: int) -> dict:
    runs: dict[str, list[dict]] = {"kiosk": [], "floor": [], "blank": []}
    for _ in range(rounds):
        runs["kiosk"].append(cold_start(playwright, base + "/"))
        runs["floor"].append(cold_start(playwright, base + "/floor/attract-service/page"))
        runs["blank"].append(cold_start(playwright, "about:blank"))
    return {kind: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for kind, rs in runs.items()}


# --- the trace -----------------------------------------------------------------------------------------

TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "blink",
                    "loading"]


def label(event: dict) -> str:
    """A trace event's name, with the script or event type that says whose time it was."""
    data = event.get("args", {}).get("data", {})
    if event["name"] == "FunctionCall":
        return f"FunctionCall {data.get('url', '').rsplit('/', 1)[-1]}:{data.get('functionName') or '?'}"
    if event["name"] == "EventDispatch":
        return f"EventDispatch {data.get('type', '?')}"
    return event["name"]


def trace_summary(raw: bytes, seconds: float) -> dict[str, float]:
    """Self time (ms) on the renderer's main thread by event, from the touchstart for `seconds` (the
    tap's measured time): where the tap → painted time went, without Playwright's own calls around it."""
    events = json.loads(raw)
    events = events["traceEvents"] if isinstance(events, dict) else events
    main = {(e["pid"], e["tid"]) for e in events if e.get("name") == "thread_name"
            and e.get("args", {}).get("name") == "CrRendererMain"}
    spans = sorted((e for e in events if e.get("ph") == "X" and (e.get("pid"), e.get("tid")) in main),
                   key=lambda e: (e["ts"], -e.get("dur", 0)))
    touches = [e["ts"] for e in spans if label(e) == "EventDispatch touchstart"]
    if not touches:
        return {}
    begin, finish = touches[0], touches[0] + seconds * 1e6
    totals: dict[str, float] = {}
    stack: list[list] = []  # [end, label, duration, children's duration]

    def close(until: float) -> None:
        while stack and stack[-1][0] <= until:
            end, name, duration, children = stack.pop()
            totals[name] = totals.get(name, 0.0) + (duration - children) / 1000

    for e in spans:
        if not begin <= e["ts"] <= finish:
            continue
        close(e["ts"])
        if stack:
            stack[-1][3] += e.get("dur", 0)
        stack.append([e["ts"] + e.get("dur", 0), label(e), e.get("dur", 0), 0])
    close(float("inf"))
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def measure_trace(browser, base: str, database: Path, directory: Path, taps: int = 5) -> dict:
    """At 4x: per side and transition, the median self time of each event over `taps` traced taps."""
    directory.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[dict]] = {}
    for kind in ("kiosk", "floor"):
        context, page, _ = new_page(browser, base, 4)
        for t in TRANSITIONS:
            for i in range(taps):
                open_source(page, t, kind, database)
                browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
                seconds = tap_once(page, t)
                page.wait_for_timeout(200)
                chunk = browser.stop_tracing()
                if i == 0:
                    (directory / f"{kind}-{t.key}.json").write_bytes(chunk)
                found.setdefault(f"{kind} {t.name}", []).append(trace_summary(chunk, seconds))
        context.close()
    medians = {}
    for key, runs in found.items():
        names = {n for run in runs for n in run}
        medians[key] = dict(sorted(((n, statistics.median(run.get(n, 0.0) for run in runs)) for n in names),
                                   key=lambda kv: -kv[1]))
    return medians


# --- running it ------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.tap")
    parser.add_argument("--taps", type=int, default=20, help="taps per transition, side and throttle")
    parser.add_argument("--cold", type=int, default=5, help="cold starts per side")
    parser.add_argument("--trace", type=Path, help="write Chromium traces (4x throttle) here and summarise them")
    parser.add_argument("--trace-only", action="store_true", help="with --trace: only the traces")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-tap-") as scratch:
        data_dir = Path(scratch)
        server = start_server(data_dir, port, "bench.tap_app")
        try:
            database = data_dir / "kiosk.sqlite3"
            capture_floor(port, database, data_dir / "floor")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                traces = measure_trace(browser, base, database, args.trace) if args.trace else {}
                if args.trace_only:
                    return print_traces(traces)
                taps = measure_taps(browser, base, database, args.taps)
                wire = measure_bytes(browser, base, database)
                browser.close()
                cold = measure_cold(playwright, base, args.cold)
        finally:
            server.terminate()
            server.wait(10)
    return report(args, taps, wire, cold, traces)


def print_traces(traces: dict) -> dict:
    for name, totals in traces.items():
        top = ", ".join(f"{k} {v:.1f}" for k, v in list(totals.items())[:12])
        print(f"\ntrace {name} (self ms per tap, 4x, median): {top}")
    return traces


def report(args, taps: dict, wire: dict, cold: dict, traces: dict) -> dict:
    rows = []
    for name, sides in taps.items():
        k, f = sides["kiosk"], sides["floor"]
        rows.append([name, f["p50_ms"], f["p95_ms"], k["p50_ms"], k["p95_ms"], k["p50_ms"] / f["p50_ms"],
                     k["p95_ms"] / f["p95_ms"]])
    print_table(f"Tap → painted ({args.taps} taps each, ms) and ratio to the floor",
                ["throttle, step", "floor p50", "floor p95", "kiosk p50", "kiosk p95", "p50 ratio", "p95 ratio"], rows)
    kinds = ["Document", "XHR", "Script", "Stylesheet", "Font", "Other"]
    print_table("Bytes on the wire: a first load of the step (empty cache), then the tap's swap",
                ["step, side"] + [f"load {k}" for k in kinds] + ["tap XHR", "tap other"],
                [[name] + [w["load"].get(k, 0) for k in kinds]
                 + [w["tap"].get("XHR", 0), sum(v for k, v in w["tap"].items() if k != "XHR")]
                 for name, w in wire.items()])
    print_table(f"Cold start: browser launch → attract painted, fonts included (median of {args.cold})",
                ["page", "launch ms", "painted ms", "first contentful paint ms", "painted ratio"],
                [[kind, c["launch_s"] * 1000, c["painted_s"] * 1000, c["fcp_ms"],
                  c["painted_s"] / cold["floor"]["painted_s"]] for kind, c in cold.items()])
    print_traces(traces)
    worst = {t: max(r[6] for r in rows if r[0].startswith(f"{t}x")) for t in THROTTLES}
    print("\n" + "; ".join(f"worst p95 ratio at {t}x: {w:.2f}x" for t, w in worst.items()) + f" (aim <= {AIM}x)")
    return write_results("tap", {"taps": taps, "bytes": wire, "cold": cold, "traces": traces,
                                 "worst_p95_ratio": worst, "aim": AIM})


if __name__ == "__main__":
    main()

"""Every event the kiosk logs is documented in docs/operations.md with its priority, and the log of a whole
real run is what journald expects: a priority prefix and an event name on every line, no personal data.

The scan rule (for every engineer adding events): in every .py file under kiosk/ and hardware/, a call
    <log|logs|logger|LOG|LOGGER, with any leading underscores>.<event|debug|info|warning|error|critical|
    exception>("area.name ...
whose first argument is a string literal starting with a dotted lower-case name is an emitted event:
`logs.event("drive.added", ...)`, `logs.warning("drive.write_failed", ...)`, and in hardware/ plain
logger lines such as `log.warning("drive.write_failed device=%s", device)`. The method gives the priority
(event/info → info, warning → warning, error/exception → err, critical → crit, debug → debug);
`logs.event(..., level=...)` or `logs.event("x", logging.WARNING)` may log at any priority, so only its
name is checked. Event names built at run time are invisible to the scan: don't build them.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.ops.kiosk_process import KioskProcess

REPO = Path(__file__).resolve().parents[2]
OPERATIONS = REPO / "docs" / "operations.md"
SCANNED = ("kiosk", "hardware")

CALL = re.compile(
    r"\b(?P<obj>_*(?:logs?|logger|LOG|LOGGER))\.(?P<method>event|debug|info|warning|error|critical|exception)"
    r"\(\s*[rf]?[\"'](?P<name>[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)(?=[\s\"'])(?P<rest>[^\n]*)"
)
PRIORITY_OF_METHOD = {"event": "info", "info": "info", "debug": "debug", "warning": "warning",
                      "error": "err", "exception": "err", "critical": "crit"}
JOURNALD_PRIORITY = {"0": "emerg", "1": "alert", "2": "crit", "3": "err", "4": "warning", "5": "notice",
                     "6": "info", "7": "debug"}
DOC_ROW = re.compile(r"^\|\s*`(?P<name>[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)`\s*\|\s*(?P<priority>[a-z]+)\s*\|",
                     re.MULTILINE)


def emitted_events(text: str) -> dict[str, str | None]:
    """{event name: its priority, or None when the call chooses it at run time} for one source text."""
    found = {}
    for call in CALL.finditer(text):
        level_chosen = call["method"] == "event" and ("level" in call["rest"] or "logging." in call["rest"])
        found[call["name"]] = None if level_chosen else PRIORITY_OF_METHOD[call["method"]]
    return found


def source_events() -> dict[str, str | None]:
    events = {}
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*.py")):
            events.update(emitted_events(path.read_text(encoding="utf-8")))
    return events


def documented_events() -> dict[str, str]:
    return {row["name"]: row["priority"] for row in DOC_ROW.finditer(OPERATIONS.read_text(encoding="utf-8"))}


def test_the_scan_rule_reads_both_styles_of_call():
    source = '''
        logs.event("drive.added", device=dev)
        logs.event("drive.slow", logging.WARNING, device=dev)
        logs.error("issue.failed", exc_info=True)
        log.warning("drive.write_failed device=%s reason=%s", dev, reason)
        self._log.info('drive.removed device=%s', dev)
        logger.debug("not an event: free text")
        catalog.event("not.logging")
    '''
    assert emitted_events(source) == {"drive.added": "info", "drive.slow": None, "issue.failed": "err",
                                      "drive.write_failed": "warning", "drive.removed": "info"}


def test_the_scan_finds_the_events_this_branch_emits():
    events = source_events()
    for name in ("server.ready", "server.start_failed", "http.csrf_failed", "watchdog.probe_failed"):
        assert name in events, f"the scan lost {name}: the rule in this module's docstring no longer fits"


def test_every_emitted_event_is_documented_with_its_priority():
    documented = documented_events()
    missing = sorted(set(source_events()) - set(documented))
    assert not missing, f"add these to docs/operations.md (one row each, in the area's table): {missing}"
    wrong = {name: (prio, documented[name]) for name, prio in source_events().items()
             if prio and documented[name] != prio}
    assert not wrong, f"priority in the code vs docs/operations.md: {wrong}"


def test_the_docs_show_how_to_find_events():
    text = OPERATIONS.read_text(encoding="utf-8")
    assert "journalctl -u cert-kiosk -p warning" in text
    assert "journalctl -u cert-kiosk -g '^drive\\.write_failed'" in text


# --- a whole run ---------------------------------------------------------------------------------------

FAKE_RRN, FAKE_EMAIL, FAKE_ACCOUNT = "9001011234567", "hong.gildong@example.com", "110123456789"
PERSONAL = [re.compile(r"\d{6}-?[1-4]\d{6}"),                 # a resident registration number
            re.compile(r"[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9.-]+"),  # an unmasked e-mail address
            re.compile(r"\d{10,14}")]                          # an account number


def journald_records(log: str) -> list[tuple[str, str]]:
    """(priority, message) per line, as journald reads a service's stdout (sd-daemon(3) prefixes)."""
    records = []
    for line in log.splitlines():
        match = re.match(r"<([0-7])>(.*)", line)
        assert match, f"a line without a journald priority: {line!r}"
        records.append((JOURNALD_PRIORITY[match[1]], match[2]))
    return records


def request(url: str, data: bytes | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def run_log(tmp_path_factory) -> str:
    """The log of a real `kiosk serve` from start to SIGTERM, with pages visited and personal data sent in
    query strings and forms that the app refuses or ignores."""
    data_dir = tmp_path_factory.mktemp("run") / "var"
    data_dir.mkdir()
    kiosk = KioskProcess(data_dir).start()
    try:
        kiosk.wait_until_serving()
        assert request(kiosk.url + "/") == 200
        assert request(kiosk.url + "/healthz/live") == 200
        assert request(kiosk.url + f"/no/such/screen?rrn={FAKE_RRN}") == 404
        form = f"lang=en&rrn={FAKE_RRN}&email={FAKE_EMAIL}&account={FAKE_ACCOUNT}".encode()
        assert request(kiosk.url + f"/language?email={FAKE_EMAIL}", data=form) == 400  # no CSRF token
        assert request(kiosk.url + "/healthz") == 503  # demo data dir without a CA: a failed check
    finally:
        assert kiosk.stop() == 0
    return kiosk.log()


def test_every_line_of_a_run_has_a_priority_and_a_documented_event(run_log):
    documented = documented_events()
    names = []
    for priority, message in journald_records(run_log):
        if message.startswith("  "):  # a traceback line, at its event's priority
            continue
        name = message.split(" ", 1)[0]
        assert re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+", name), f"not an event name: {message!r}"
        assert documented.get(name) == priority, f"{name} at {priority}: not so in docs/operations.md"
        names.append(name)
    # demo mode starts (or says why it did not start) the CA's process before the server is ready
    served = [name for name in names if not name.startswith("ca.")]
    assert served[0] == "server.ready" and served[-1] == "server.stopped"
    assert "http.csrf_failed" in names


def test_no_personal_data_reaches_the_log(run_log):
    for value in (FAKE_RRN, FAKE_EMAIL, FAKE_ACCOUNT, "hong.gildong"):
        assert value not in run_log
    for pattern in PERSONAL:
        assert not pattern.search(run_log), f"{pattern.pattern} matches the log:\n{run_log}"

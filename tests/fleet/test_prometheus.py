"""A real Prometheus (Debian's `prometheus`) scrapes a real `kiosk serve` through whole visits over HTTP
and a failed write, and evaluates ops/prometheus/kiosk-rules.yml: the counters move as the visits say,
the alerts fire for a kiosk out of service and for one that cannot be reached, and what it scraped holds
no personal value.

Real: the kiosk process and its metrics listener, Prometheus scraping every second and evaluating the
rules every second, its HTTP API. Changed for the test only: every rule's `for:` is shortened to 1s (the
thresholds and expressions are the file's own), and the unreachable kiosk is a scrape target with
nothing listening. Every wait polls with a generous deadline; nothing asserts on time."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from hardware.demo import insert_demo_drive
from kiosk.identity.demo import DEMO_CUSTOMERS
from kiosk.pii import customer_key
from kiosk.settings import DEMO_CUSTOMER_HASH_KEY
from tests.conftest import free_port
from tests.fleet.test_ops_files import RULES
from tests.fleet.visits import EXPECTED, TINY_DRIVE_BYTES, every_visit, scrape, selector_value
from tests.http_customer import Customer
from tests.ops.kiosk_process import REPO, KioskProcess
from tests.tools import require_command
from tests.waiting import wait_for

DEADLINE = 90  # seconds: generous on a busy two-core machine; each wait returns as soon as it holds


def poll(check, what: str, deadline: float = DEADLINE):
    return wait_for(check, what, timeout=deadline, interval=0.25)


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read().decode()


class Prometheus:
    """`prometheus` on a loopback port with a temporary config and database."""

    def __init__(self, tmp: Path, targets: list[str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        rules = tmp / "kiosk-rules.yml"
        rules.write_text(re.sub(r"for: \d+[smh]", "for: 1s", RULES.read_text(encoding="utf-8")),
                         encoding="utf-8")
        config = tmp / "prometheus.yml"
        config.write_text(json.dumps({  # JSON is YAML
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules)],
            "scrape_configs": [{"job_name": "cert-kiosk", "static_configs": [
                {"targets": targets, "labels": {"branch": "test"}}]}],
        }), encoding="utf-8")
        self.log = open(tmp / "prometheus.log", "wb")
        self.process = subprocess.Popen(
            [require_command("prometheus", "prometheus"), f"--config.file={config}",
             f"--storage.tsdb.path={tmp / 'tsdb'}", f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        try:
            poll(self.ready, "Prometheus answers /-/ready")
        except BaseException:
            self.stop()  # never leave a Prometheus behind on a shared machine
            raise

    def ready(self) -> bool:
        assert self.process.poll() is None, Path(self.log.name).read_text()
        try:
            return "Ready" in get(self.url + "/-/ready")
        except OSError:
            return False

    def api(self, path: str, **params) -> dict:
        body = json.loads(get(f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"))
        assert body["status"] == "success", body
        return body["data"]

    def value(self, query: str) -> float | None:
        result = self.api("query", query=query)["result"]
        return float(result[0]["value"][1]) if result else None

    def firing(self, alert: str) -> list[dict]:
        return [a for a in self.api("alerts")["alerts"] if a["labels"]["alertname"] == alert
                and a["state"] == "firing"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """One real kiosk (demo data, the watchdog fed every second) and an unreachable one, both scraped."""
    require_command("prometheus", "prometheus")
    tmp = tmp_path_factory.mktemp("fleet")
    data_dir = tmp / "var"
    kiosk = KioskProcess(data_dir, WATCHDOG_USEC="2000000")
    subprocess.run([sys.executable, "-m", "kiosk", "init", "--demo"], cwd=REPO, env=kiosk.env, check=True,
                   capture_output=True, timeout=180)
    kiosk.start()
    prometheus = None
    try:
        kiosk.wait_until_serving()
        poll(lambda: listening(kiosk.metrics_url), "the kiosk's metrics listener answers")
        unreachable = f"127.0.0.1:{free_port()}"
        prometheus = Prometheus(tmp, [f"127.0.0.1:{kiosk.metrics_port}", unreachable])
        yield kiosk, prometheus, unreachable
    finally:
        if prometheus:
            prometheus.stop()
        kiosk.stop()


def listening(url: str) -> bool:
    try:
        return "kiosk_build_info" in get(url)
    except OSError:
        return False


def outbox_code(data_dir: Path) -> str:
    """The newest e-mail code in the demo outbox (the kiosk's own database, read-only)."""
    with sqlite3.connect(f"file:{data_dir / 'kiosk.sqlite3'}?mode=ro", uri=True) as db:
        body = db.execute("SELECT body FROM demo_outbox ORDER BY id DESC LIMIT 1").fetchone()[0]
    return re.search(r"\b(\d{6})\b", body).group(1)


@pytest.fixture(scope="module")
def visited(fleet):
    """The visits of tests/fleet/visits.py (a delivery after a failed write, an abandoned certificate,
    a lockout) through the real kiosk, with a tiny stick (drive_full) and a good one."""
    kiosk, prometheus, _ = fleet
    data_dir = Path(kiosk.env["KIOSK_DATA_DIR"])
    tiny = insert_demo_drive(data_dir, "tiny", size_bytes=TINY_DRIVE_BYTES)
    good = insert_demo_drive(data_dir, "good")
    poll(lambda: selector_value(scrape(get(kiosk.metrics_url)), 'kiosk_drives_listed{eligible="true"}') >= 3,
         "the kiosk lists the two new sticks")
    every_visit(kiosk.url, lambda: outbox_code(data_dir), tiny.id, good.id)
    return fleet


def test_prometheus_sees_the_counters_move_as_the_visits_did(visited):
    kiosk, prometheus, _ = visited
    instance = f'instance="127.0.0.1:{kiosk.metrics_port}"'
    for selector, expected in EXPECTED.items():
        name, _, labels = selector.partition("{")
        query = f"sum({name}{{{instance}{',' + labels.rstrip('}') if labels else ''}}})"
        poll(lambda q=query, e=expected: prometheus.value(q) == e, f"{query} == {expected}")
    assert prometheus.value(f'kiosk_watchdog_probe_healthy{{{instance},probe="app"}}') == 1
    assert prometheus.value(f"kiosk_ca_certificate_expiry_seconds{{{instance},certificate=\"issuing\"}}") > 86400
    assert prometheus.value(f'count(kiosk_build_info{{{instance},version!=""}})') == 1


def test_the_unreachable_kiosk_fires_kiosk_down(fleet):
    _, prometheus, unreachable = fleet
    alerts = poll(lambda: prometheus.firing("KioskDown"), "KioskDown firing")
    assert [a["labels"]["instance"] for a in alerts] == [unreachable]
    assert alerts[0]["labels"]["branch"] == "test"


def test_a_kiosk_put_out_of_service_fires_kiosk_out_of_service(visited):
    kiosk, prometheus, _ = visited
    assert not prometheus.firing("KioskOutOfService")
    staff = Customer(kiosk.url)
    staff.get("/staff/sign-in")
    staff.post("/staff/sign-in", {"name": "데모직원", "pin": "246810"})
    staff.post("/staff/service", {"out_of_service": "1"})
    assert "점검 중" in staff.page
    alerts = poll(lambda: prometheus.firing("KioskOutOfService"), "KioskOutOfService firing")
    assert alerts[0]["labels"]["instance"] == f"127.0.0.1:{kiosk.metrics_port}"
    staff.post("/staff/service", {"out_of_service": "0"})
    poll(lambda: not prometheus.firing("KioskOutOfService"), "KioskOutOfService resolved")


def test_the_scraped_text_holds_no_personal_value(visited):
    kiosk, _, _ = visited
    text = get(kiosk.metrics_url)
    for person in DEMO_CUSTOMERS:
        key = customer_key(DEMO_CUSTOMER_HASH_KEY, person.rrn.replace("-", ""))
        for value in (person.name, person.english_name, person.email, person.email.split("@")[0],
                      person.rrn, person.rrn.replace("-", ""), person.account,
                      person.account.replace("-", ""), key, key[:12]):
            if value:
                assert value not in text, f"the metrics show {value!r}"
    assert not re.search(r"\d{6}-?[1-4]\d{6}|@|\d{10,}", re.sub(r"\d+\.\d+e[+-]\d+|\d+\.\d+", "", text))

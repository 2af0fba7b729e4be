"""The metrics of one kiosk, in process: a registry per kiosk, never on the customer's origin, the
listener `kiosk serve` starts, and the gauges read at scrape time."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from kiosk.server import start_metrics
from tests.conftest import free_port


def samples(registry) -> dict[tuple[str, tuple], float]:
    from prometheus_client import generate_latest

    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_each_kiosk_counts_on_its_own_registry(app, app_config, tmp_path):
    from kiosk.web import create_app

    other = create_app({**app_config, "data_dir": tmp_path / "other"})
    try:
        ours, theirs = app.extensions["kiosk"].metrics, other.extensions["kiosk"].metrics
        assert ours.registry is not theirs.registry
        ours.lockouts.inc()
        assert samples(ours.registry)[("kiosk_lockouts_total", ())] == 1
        assert samples(theirs.registry)[("kiosk_lockouts_total", ())] == 0
    finally:
        other.extensions["kiosk"].close()


def test_the_customers_origin_serves_no_metrics(client):
    assert client.get("/metrics").status_code == 404


def test_the_listener_serves_the_kiosks_registry_on_its_own_port(app):
    registry = app.extensions["kiosk"].metrics.registry
    server = start_metrics(registry, "127.0.0.1", free_port())
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert 'kiosk_build_info{revision="' in text and 'slot="none"' in text
    assert "kiosk_out_of_service 0.0" in text


def test_state_gauges_are_read_at_scrape(app):
    kiosk = app.extensions["kiosk"]
    before = samples(kiosk.metrics.registry)
    assert before[("kiosk_out_of_service", ())] == 0
    assert before[("kiosk_ca_certificate_expiry_seconds", (("certificate", "issuing"),))] > 86400
    assert before[("kiosk_data_dir_free_bytes", ())] > 0
    kiosk.state.set_out_of_service(True)
    assert samples(kiosk.metrics.registry)[("kiosk_out_of_service", ())] == 1


def test_a_taken_port_is_logged_and_leaves_the_kiosk_serving(app, caplog):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert start_metrics(app.extensions["kiosk"].metrics.registry, "127.0.0.1",
                             taken.getsockname()[1]) is None
    assert "metrics.listen_failed" in caplog.text


def test_scrapes_leave_no_database_connection_open(app):
    """Each scrape runs on a new thread of the listener; reading the store there opened a connection
    (two descriptors) per scrape that stayed open until shutdown — found by counting a kiosk's fds."""
    import os

    server = start_metrics(app.extensions["kiosk"].metrics.registry, "127.0.0.1", free_port())
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    try:
        urllib.request.urlopen(url, timeout=10).read()
        before = len(os.listdir("/proc/self/fd"))
        for _ in range(30):
            urllib.request.urlopen(url, timeout=10).read()
        after = len(os.listdir("/proc/self/fd"))
    finally:
        server.shutdown()
        server.server_close()
    assert after - before < 10, f"{after - before} descriptors more after 30 scrapes"


def test_the_metrics_port_must_differ_from_the_customers(monkeypatch):
    import pytest

    from kiosk.settings import ConfigurationError, Settings

    monkeypatch.setenv("KIOSK_PORT", "8080")
    monkeypatch.setenv("KIOSK_METRICS_PORT", "8080")
    with pytest.raises(ConfigurationError, match="KIOSK_METRICS_PORT"):
        Settings.from_env()
    monkeypatch.setenv("KIOSK_METRICS_PORT", "0")
    assert Settings.from_env().metrics_port == 0


def test_the_ca_is_timed_per_operation_and_its_failures_counted_by_code(app):
    import pytest

    from kiosk.metrics import MeasuredCA
    from kiosk.pki.errors import CaUnreachable

    class FakeUnreachableCA:
        def issue(self, request, key):
            raise CaUnreachable("connection refused")

    metrics = app.extensions["kiosk"].metrics
    with pytest.raises(CaUnreachable):
        MeasuredCA(FakeUnreachableCA(), metrics).issue(None, None)
    after = samples(metrics.registry)
    assert after[("kiosk_ca_errors_total", (("operation", "issue"), ("reason", "ca_unreachable")))] == 1
    assert after[("kiosk_ca_request_seconds_count", (("operation", "issue"),))] == 1


def test_a_visit_ends_abandoned_only_before_its_last_step(app, client):
    """내 인증서 확인 ends on its check screen, an issuance on done: neither is abandoned; an issuance
    left at the consent step is."""
    metrics = app.extensions["kiosk"].metrics
    for service in ("check", "new"):
        client.post("/start")
        client.post("/journey/service", data={"service": service})
        client.post("/reset")
    after = samples(metrics.registry)
    abandoned = {labels[0][1]: value for (name, labels), value in after.items()
                 if name == "kiosk_journeys_abandoned_total" and value}
    assert abandoned == {"consent": 1}
    assert after[("kiosk_journey_steps_reached_total", (("step", "check"),))] == 1
    assert ("kiosk_issuances_started_total", (("service", "check"),)) not in after


def test_a_database_that_cannot_be_read_leaves_only_its_gauge_out(app):
    import sqlite3

    from kiosk.metrics import KioskStateCollector

    def locked() -> bool:
        raise sqlite3.OperationalError("database is locked")

    kiosk = app.extensions["kiosk"]
    collector = KioskStateCollector(out_of_service=locked, ca_chain_pem=kiosk.issuance.ca_chain_pem,
                                    crl_path=None, data_dir=kiosk.settings.data_dir, drives=kiosk.drives.drives)
    families = {family.name: family.samples for family in collector.collect()}
    assert families["kiosk_out_of_service"] == []
    assert families["kiosk_data_dir_free_bytes"]


def test_every_error_code_a_run_can_fail_with_starts_at_zero(app):
    """The reasons are read from the error classes: a new code cannot be missing from the dashboards, as
    already_replaced and needs_repair once were from a hand-kept list."""
    from hardware.errors import DriveError, NeedsRepair
    from kiosk.pki.errors import AlreadyReplaced, PkiError

    def codes(base):
        return {base.code} | {code for sub in base.__subclasses__() for code in codes(sub)}

    exported = samples(app.extensions["kiosk"].metrics.registry)
    failed = {dict(labels)["reason"] for (name, labels) in exported if name == "kiosk_issuances_failed_total"}
    assert codes(PkiError) | codes(DriveError) <= failed
    assert {AlreadyReplaced.code, NeedsRepair.code} <= failed


def test_the_metrics_import_nothing_of_the_journey():
    """The journey counts through the metrics; the label values come down from kiosk.wiring, never up."""
    import subprocess
    import sys

    loaded = subprocess.run([sys.executable, "-c", "import sys, kiosk.metrics; "
                             "print(any(name.startswith('kiosk.journey') for name in sys.modules))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "False"

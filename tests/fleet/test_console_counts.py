"""The staff console's "today" counts and the fleet's counters agree: each count is read from the audit
log (it outlives a restart) and its counter moves in the same call as the audit row (kiosk.metrics,
CONSOLE_COUNTS), so on a kiosk started today both say the same after any mix of visits."""

from __future__ import annotations

import pytest

from kiosk.metrics import CONSOLE_COUNTS
from tests.fleet.visits import (
    EXPECTED,
    TINY_DRIVE_BYTES,
    every_visit,
    scrape,
    selector_value,
    staff_console_counts,
)
from tests.http_customer import insert_drive
from tests.walker import last_code

LABELS = {"certificate.delivered": "발급 완료", "certificate.revoked": "폐기", "customer.locked": "고객 잠금",
          "session.reset": "세션 종료"}


@pytest.fixture
def staffed(app):
    from kiosk.commands.staff import DEMO_STAFF
    from kiosk.staff import add_staff

    add_staff(app.extensions["kiosk"].store, *DEMO_STAFF)
    return app


def test_the_console_shows_what_the_counters_counted(staffed, live_server):
    app = staffed
    tiny = insert_drive(app, "tiny", size_bytes=TINY_DRIVE_BYTES)
    good = insert_drive(app, "stick")
    every_visit(live_server.url, lambda: last_code(app), tiny.id, good.id)

    console = staff_console_counts(live_server.url)
    metrics = app.extensions["kiosk"].metrics
    assert set(LABELS) == set(CONSOLE_COUNTS)
    counted = {action: int(metrics.audited_total(action)) for action in CONSOLE_COUNTS}
    shown = {action: console[LABELS[action]] for action in CONSOLE_COUNTS}
    assert shown == counted
    assert counted == {"certificate.delivered": 1, "certificate.revoked": 1, "customer.locked": 1,
                       "session.reset": 3}
    from prometheus_client import generate_latest

    samples = scrape(generate_latest(metrics.registry).decode())
    assert {s: selector_value(samples, s) for s in EXPECTED} == EXPECTED


def test_revocations_at_start_up_count_one_per_certificate(app):
    """A crash leaves certificates undelivered; the sweep revokes them, one audit row and one increment
    each, so the console's 폐기 and the counter agree after a restart too."""
    from kiosk.pki.issuance import Applicant
    from tests.walker import GOOD_PASSWORD, HONG

    kiosk = app.extensions["kiosk"]
    applicant = Applicant(HONG.name, HONG.english_name, HONG.rrn.replace("-", ""), "customer-key")
    for _ in range(2):
        kiosk.issuance.prepare(applicant, GOOD_PASSWORD)
    kiosk.prepare_to_serve()
    assert kiosk.audit.count_today("certificate.revoked") == 2
    assert kiosk.metrics.audited_total("certificate.revoked") == 2

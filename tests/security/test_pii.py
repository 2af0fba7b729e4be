"""After a customer's visit and a reset, nothing of them is left on the screen or in the logs."""

import logging

import pytest

from kiosk.logs import JournaldFormatter
from tests.walker import GOOD_PASSWORD, HONG, last_code

SECRETS = [HONG.name, HONG.english_name, HONG.rrn, HONG.rrn.replace("-", ""), HONG.rrn.split("-")[1],
           HONG.account, HONG.account.replace("-", ""), HONG.email, GOOD_PASSWORD]


@pytest.fixture
def journey_logs(walker, app, caplog):
    caplog.set_level(logging.DEBUG)
    walker.to_password()
    walker.post("/journey/password", {"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    code = last_code(app)
    walker.post("/reset")
    lines = [JournaldFormatter().format(record) for record in caplog.records]
    return lines, code


def test_no_log_line_carries_personal_data_or_secrets(journey_logs):
    lines, code = journey_logs
    assert lines, "the journey logged nothing at all"
    for line in lines:
        for secret in SECRETS + [code, HONG.pin]:
            assert secret not in line, f"{secret!r} leaked into {line!r}"


def test_every_log_line_has_a_journald_priority_and_an_event_name(journey_logs):
    import re

    lines, _ = journey_logs
    for line in lines:
        assert re.match(r"^<[0-7]>[a-z_]+\.[a-z_.]+( |$)", line), line


def test_pages_after_the_reset_show_nothing_of_the_customer(journey_logs, walker):
    for path in ("/", "/journey/identity", "/journey/password", "/journey/drive", "/journey/done"):
        page = walker.client.get(path, follow_redirects=True).get_data(as_text=True)
        for secret in SECRETS + ["h***@example.com"]:
            assert secret not in page, f"{secret!r} still on {path}"


def test_the_password_page_never_renders_the_password_back(walker):
    walker.to_password()
    page = walker.post("/journey/password", {"password": GOOD_PASSWORD, "confirm": "other"}).get_data(as_text=True)
    assert GOOD_PASSWORD not in page

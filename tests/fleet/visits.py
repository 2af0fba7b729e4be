"""The visits the fleet tests send through a real kiosk over HTTP (tests/http_customer.py): each moves
a known set of counters, and the tests check the counters, the console and Prometheus against them."""

from __future__ import annotations

import re
from collections.abc import Callable

from kiosk.identity.demo import DEMO_CUSTOMERS
from tests.http_customer import Customer, choose_drive, wait_for_issuing, walk_to_drive, walk_to_identity
from tests.walker import HONG, identity_form

LEE, KIM = DEMO_CUSTOMERS[2], DEMO_CUSTOMERS[1]
TINY_DRIVE_BYTES = 1024  # smaller than any bundle: the write fails with drive_full


def delivered_after_a_failed_write(base_url: str, read_code: Callable[[], str], tiny: str, good: str) -> None:
    """Hong: the tiny stick fails (drive_full), the good one takes the bundle, then 처음으로."""
    customer = Customer(base_url)
    walk_to_drive(customer, read_code, person=HONG)
    choose_drive(customer, tiny)
    wait_for_issuing(customer)
    assert customer.url.endswith("/journey/drive"), customer.url
    choose_drive(customer, good)
    wait_for_issuing(customer)
    assert customer.url.endswith("/journey/done"), customer.url
    customer.post("/reset")


def abandoned_after_a_failed_write(base_url: str, read_code: Callable[[], str], tiny: str) -> None:
    """Lee: the certificate is issued, the only stick is too small, the customer leaves (revoked)."""
    customer = Customer(base_url)
    walk_to_drive(customer, read_code, person=LEE)
    choose_drive(customer, tiny)
    wait_for_issuing(customer)
    assert customer.url.endswith("/journey/drive"), customer.url
    customer.post("/reset")


def locked_out(base_url: str) -> None:
    """Kim: five wrong PINs lock her kiosk issuance; she leaves."""
    customer = Customer(base_url)
    walk_to_identity(customer)
    customer.post("/journey/identity", identity_form(KIM))
    for _ in range(5):
        customer.post("/journey/account", {"account": KIM.account, "pin": "0000"})
    customer.post("/reset")


def every_visit(base_url: str, read_code: Callable[[], str], tiny: str, good: str) -> None:
    delivered_after_a_failed_write(base_url, read_code, tiny, good)
    abandoned_after_a_failed_write(base_url, read_code, tiny)
    locked_out(base_url)


# what `every_visit` moves, as Prometheus sample selectors and their values
EXPECTED = {
    'kiosk_issuances_started_total{service="new"}': 3,
    'kiosk_issuances_completed_total{service="new"}': 1,
    'kiosk_issuances_failed_total{service="new",reason="drive_full"}': 2,
    'kiosk_drive_errors_total{operation="write",code="drive_full"}': 2,
    'kiosk_drive_events_total{event="added"}': 2,  # the tiny stick and the good one
    'kiosk_drive_events_total{event="ejected"}': 1,
    'kiosk_drive_events_total{event="removed"}': 1,  # the good one, once ejected
    'kiosk_session_resets_total{reason="customer_reset"}': 3,
    'kiosk_lockouts_total': 1,
    'kiosk_undelivered_revoked_total{when="session_end"}': 1,
    'kiosk_email_codes_sent_total': 2,
    'kiosk_journeys_abandoned_total{step="drive"}': 1,
    'kiosk_journeys_abandoned_total{step="account"}': 1,
    'kiosk_journey_steps_reached_total{step="done"}': 1,
    'kiosk_ca_request_seconds_count{operation="issue"}': 2,
    'kiosk_ca_request_seconds_count{operation="revoke"}': 1,
}


def staff_console_counts(base_url: str, name: str = "데모직원", pin: str = "246810") -> dict[str, int]:
    """The "today" counts as the staff console shows them, read from its page."""
    staff = Customer(base_url)
    staff.get("/staff/sign-in")
    staff.post("/staff/sign-in", {"name": name, "pin": pin})
    page = staff.get("/staff/state")
    section = page.split("오늘", 1)[1].split("</ul>", 1)[0]
    return {label: int(n) for label, n in re.findall(r"<li>([^<:]+): <strong>(\d+)</strong>", section)}


def selector_value(samples: dict[tuple[str, frozenset], float], selector: str) -> float:
    """The value of `name{a="x",b="y"}` among scraped samples (keyed by name and label items)."""
    name, _, labels = selector.partition("{")
    wanted = frozenset(tuple(pair.split("=", 1)) for pair in labels.rstrip("}").replace('"', "").split(",")
                       if pair)
    return sum(value for (sample, items), value in samples.items() if sample == name and wanted <= items)


def scrape(text: str) -> dict[tuple[str, frozenset], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}

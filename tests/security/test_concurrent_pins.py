"""The 5-try PIN lockout holds when the PINs arrive at once (issue 20, item 1): a real waitress server on
loopback, one customer session at the account step, many POSTs released together as a script would."""

from __future__ import annotations

import threading
import urllib.parse

from kiosk.identity.demo import DEMO_CUSTOMERS
from kiosk.pii import customer_key
from tests.http_customer import Customer, walk_to_identity
from tests.walker import identity_form

KIM = DEMO_CUSTOMERS[1]  # PIN 2468
TRIES_LEFT = "남은 횟수"
LOCKED = "잠겼습니다"


def at_the_account_step(server) -> Customer:
    customer = Customer(server.url)
    walk_to_identity(customer)
    customer.post("/journey/identity", identity_form(KIM))
    assert customer.url.endswith("/journey/account"), customer.url
    return customer


def post_pins_at_once(customer: Customer, pins: list[str]) -> list[tuple[str, str, str]]:
    """Every PIN POSTed from its own thread, released together; (pin, final URL, page) for each."""
    barrier = threading.Barrier(len(pins))
    answers: list[tuple[str, str, str]] = []

    def post(pin: str) -> None:
        body = urllib.parse.urlencode({"csrf_token": customer.token, "account": KIM.account, "pin": pin}).encode()
        barrier.wait()
        try:
            with customer.opener.open(customer.base + "/journey/account", data=body, timeout=60) as response:
                answers.append((pin, response.geturl(), response.read().decode()))
        except urllib.error.HTTPError as error:
            answers.append((pin, error.geturl(), error.read().decode()))

    threads = [threading.Thread(target=post, args=(pin,)) for pin in pins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == len(pins)
    return answers


def failures_recorded(app) -> int:
    services = app.extensions["kiosk"]
    return services.lockouts.failures(customer_key(services.settings.customer_hash_key, KIM.rrn))


def checked_tries(caplog) -> int:
    """Tries whose PIN was looked at: each ends as one failure or as the lock it caused."""
    events = [record.getMessage().split()[0] for record in caplog.records]
    return events.count("identity.account_failed") + events.count("identity.account_locked")


def test_forty_wrong_pins_at_once_check_exactly_five_then_lock(app, live_server, caplog):
    customer = at_the_account_step(live_server)

    answers = post_pins_at_once(customer, ["0000"] * 40)

    assert all(TRIES_LEFT in page or LOCKED in page for _pin, _url, page in answers)
    assert any(LOCKED in page for _pin, _url, page in answers)
    assert failures_recorded(app) == 5
    assert checked_tries(caplog) == 5, "the other 35 were refused without looking at the PIN"


def test_the_right_pin_among_fifteen_wrong_never_gets_past_a_lock(app, live_server):
    customer = at_the_account_step(live_server)

    answers = post_pins_at_once(customer, ["0000"] * 15 + [KIM.pin])

    right_pin_url = next(url for pin, url, _page in answers if pin == KIM.pin)
    anyone_told_locked = any(LOCKED in page for _pin, _url, page in answers)
    assert failures_recorded(app) <= 5, "never more than five PINs counted"
    if not right_pin_url.endswith("/journey/email"):
        # a lock came before the right PIN was checked: the right PIN did not lift it
        assert anyone_told_locked and failures_recorded(app) == 5
    # tries of one customer are checked one at a time: the right PIN forgave the wrong ones before it,
    # the ones after it counted afresh. Whoever was told "locked" was told the truth: the lock holds.
    if anyone_told_locked:
        again = Customer(live_server.url)
        walk_to_identity(again)
        again.post("/journey/identity", identity_form(KIM))
        assert again.url.endswith("/journey/identity") and "잠겨 있습니다" in again.page

"""The identity step cannot be used as an oracle (issue 20, "also questionable"): "no such customer"
is answered at most 20 times in any 5 minutes across all sessions; then every identity check waits,
with the message of a directory that cannot answer. Over HTTP against a real server, the clock moved by
hand."""

from __future__ import annotations

from tests.http_customer import Customer, walk_to_identity
from tests.walker import HONG, identity_form

NOT_FOUND = "일치하는 고객을 찾지 못했습니다"
PAUSED = "지금 고객 정보를 확인할 수 없습니다"


def try_identity(server, **changes) -> str:
    customer = Customer(server.url)  # a new session each time, as a script would
    walk_to_identity(customer)
    customer.post("/journey/identity", identity_form(HONG, **changes))
    return customer.url.rsplit("/", 1)[-1] + ("" if customer.url.endswith("/account") else
                                              (" not_found" if NOT_FOUND in customer.page else
                                               " paused" if PAUSED in customer.page else " other"))


def test_guessing_an_issue_date_is_stopped_after_twenty_mismatches(live_server, clock):
    guesses = [try_identity(live_server, issue_date=f"2015{month:02d}01") for month in range(1, 13)]
    guesses += [try_identity(live_server, issue_date=f"2014{month:02d}01") for month in range(1, 13)]

    assert guesses[:20] == ["identity not_found"] * 20
    assert set(guesses[20:]) == {"identity paused"}
    assert try_identity(live_server) == "identity paused", "even the right answer waits: no oracle"

    clock.advance(301)
    assert try_identity(live_server) == "account"

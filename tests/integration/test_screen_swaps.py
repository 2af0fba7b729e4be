"""What htmx gets when it swaps #screen, and what a full load gets, through the real server (issue 18):
#screen alone for a swap, the whole page otherwise, and each session's own CSRF token in the parts of
#screen rendered once for every customer."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.http_customer import Customer

SWAP = {"HX-Request": "true", "HX-Target": "screen"}


def fetch(customer: Customer, path: str, headers: dict, form: dict | None = None):
    """One request with the customer's cookies and extra headers; redirects are not followed."""
    data = urllib.parse.urlencode({"csrf_token": customer.token, **form}).encode() if form is not None else None
    request = urllib.request.Request(customer.base + path, data=data, headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(customer.jar), NoRedirect)
    try:
        response = opener.open(request, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        return response.status, response.headers, response.read().decode()  # headers: any case


@pytest.fixture
def customer(live_server) -> Customer:
    customer = Customer(live_server.url)
    customer.get("/")
    customer.post("/start")
    return customer


def test_a_swap_of_the_screen_gets_the_screen_alone_and_a_full_load_the_page(customer):
    status, headers, page = fetch(customer, "/journey/service", {})
    assert status == 200 and page.startswith("<!doctype html>") and "htmx-2.0.11.min.js" in page
    assert "HX-Request" in headers["Vary"]

    status, headers, fragment = fetch(customer, "/journey/service", SWAP)
    assert status == 200
    assert fragment.strip().startswith('<div id="screen" data-step="service"')
    assert "<html" not in fragment and "<script" not in fragment and "<head>" not in fragment
    assert 'id="service-new"' in fragment and 'id="lang-toggle"' in fragment and 'id="start-over"' in fragment
    assert headers["HX-Push-Url"] == "/journey/service"


def test_a_history_restore_gets_the_whole_page(customer):
    headers = {**SWAP, "HX-History-Restore-Request": "true"}
    _, _, page = fetch(customer, "/journey/service", headers)
    assert page.startswith("<!doctype html>")


def test_a_step_posted_by_htmx_answers_the_next_step_and_a_plain_post_is_redirected(customer):
    status, headers, fragment = fetch(customer, "/journey/service", SWAP, {"service": "new"})
    assert status == 200 and headers["HX-Push-Url"] == "/journey/consent"
    assert fragment.strip().startswith('<div id="screen" data-step="consent"')

    status, headers, _ = fetch(customer, "/journey/consent", {}, {"terms": "y", "privacy": "y"})
    assert status == 303 and headers["Location"].endswith("/journey/identity")


def test_the_shared_parts_carry_each_sessions_own_csrf_token(live_server):
    tokens = []
    for _ in range(2):
        customer = Customer(live_server.url)
        customer.get("/")
        customer.post("/start")
        _, _, fragment = fetch(customer, "/journey/service", SWAP)
        in_bars = set(re.findall(r'name="csrf_token" value="([^"]+)"', fragment))
        assert len(in_bars) == 1, in_bars  # the settings bar, the actions bar and the form agree
        token = in_bars.pop()
        # the token works: the customer's next post with it goes through
        status, _, _ = fetch(customer, "/journey/service", SWAP, {"service": "new", "csrf_token": token})
        assert status == 200
        tokens.append(token)
    assert tokens[0] != tokens[1]


def test_a_swap_after_switching_language_is_in_that_language(customer):
    customer.post("/language", {"lang": "en", "next": "/journey/service"})
    _, _, fragment = fetch(customer, "/journey/service", SWAP)
    assert 'data-lang="en"' in fragment and "Start over" in fragment
    customer.post("/accessibility", {"mode": "large-text", "next": "/journey/service"})
    _, _, fragment = fetch(customer, "/journey/service", SWAP)
    assert 'data-modes="large-text"' in fragment
    assert re.search(r'id="mode-large-text"\s+aria-pressed="true"', fragment)

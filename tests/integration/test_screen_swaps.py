"""What htmx gets when it swaps #screen, and what a full load gets, through the real server (issue 18):
#screen alone for a swap, the whole page otherwise; and screens rendered once for every customer
(kiosk/web/shared.py) that still carry each session's own CSRF token, a new keypad order on every
showing, and the customer's own place in their own journey."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.http_customer import Customer, walk_to_identity

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


def screen_without_per_showing_values(fragment: str) -> str:
    fragment = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+"', r'\1TOKEN"', fragment)
    return re.sub(r'data-keypad-layout="[^"]*"', 'data-keypad-layout="LAYOUT"', fragment)


def test_two_customers_on_the_same_first_showing_differ_only_in_token_and_keypad(live_server):
    fragments, layouts, tokens = [], set(), set()
    for _ in range(2):
        customer = Customer(live_server.url)
        walk_to_identity(customer)
        customer.post("/journey/identity/keyboard", {"reason": "chosen"})     # the form with its keypad
        for _ in range(2):  # the second showing comes from the render kept for everyone
            _, _, fragment = fetch(customer, "/journey/identity", SWAP)
            fragments.append(screen_without_per_showing_values(fragment))
            layouts.add(re.search(r'data-keypad-layout="([^"]+)"', fragment).group(1))
            tokens |= set(re.findall(r'name="csrf_token" value="([^"]+)"', fragment))
        assert customer.token in tokens
    assert len(set(fragments)) == 1
    assert len(layouts) == 4  # a new order on every showing (12!/2 orders: equal only by a broken shuffle)
    assert len(tokens) == 2   # one per session


def test_a_screen_rendered_once_still_shows_each_customer_their_own_journey(live_server):
    steps = {}
    for service in ("new", "reissue"):  # a reissue has one step more: choosing the certificate it replaces
        customer = Customer(live_server.url)
        walk_to_identity(customer, service)
        _, _, fragment = fetch(customer, "/journey/identity", SWAP)
        steps[service] = int(re.search(r'aria-valuemax="(\d+)"', fragment).group(1))
    assert steps["reissue"] == steps["new"] + 1


def test_the_code_screen_rendered_once_shows_each_customer_their_own_address_and_time(live_server):
    from kiosk.identity.demo import DEMO_CUSTOMERS
    from kiosk.pii import mask_email
    from tests.walker import identity_form

    for person in DEMO_CUSTOMERS[:2]:
        customer = Customer(live_server.url)
        walk_to_identity(customer)
        customer.post("/journey/identity", identity_form(person))
        customer.post("/journey/account", {"account": person.account, "pin": person.pin})
        for _ in range(2):  # the second showing comes from the render kept for everyone
            _, _, fragment = fetch(customer, "/journey/email", SWAP)
            assert html.escape(mask_email(person.email)) in fragment
            assert re.search(r"남은 시간 [0-3]분 \d\d초 · 다시 받기 \d회 남음", fragment)
            assert "hole-" not in fragment


def test_the_kept_renders_are_bounded_the_least_recently_used_going_first():
    from kiosk.web.shared import SharedRenders

    renders = SharedRenders(limit=2)
    renders.put("identity", "a")
    renders.put("account", "b")
    assert renders.get("identity") == "a"  # now the most recently used
    renders.put("password", "c")
    assert len(renders) == 2
    assert renders.get("account") is None and renders.get("identity") == "a" and renders.get("password") == "c"

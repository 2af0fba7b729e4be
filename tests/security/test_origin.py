"""A POST from another origin is refused even with a valid CSRF token (issue 20, "also questionable":
defence in depth). Browsers send `Origin` on every POST; the kiosk's own pages send their own origin
(Referrer-Policy: same-origin). Over HTTP against a real server."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.http_customer import Customer


def post_start(server, customer: Customer, **headers) -> int:
    body = urllib.parse.urlencode({"csrf_token": customer.token}).encode()
    request = urllib.request.Request(server.url + "/start", data=body, headers=headers)
    try:
        with customer.opener.open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Referer": "http://evil.example/page"}])
def test_a_valid_token_from_another_origin_is_refused(live_server, headers):
    customer = Customer(live_server.url)
    customer.get("/")

    assert post_start(live_server, customer, **headers) == 400
    assert customer.get("/") and "화면을 터치하여 시작하세요" in customer.page, "no journey was started"


def test_the_kiosks_own_pages_post_with_their_own_origin(live_server):
    customer = Customer(live_server.url)
    customer.get("/")

    assert post_start(live_server, customer, Origin=live_server.url) == 200
    assert customer.get("/journey/service")

"""`next` (the language and accessibility buttons come back to the same page) only ever leads to a path of
this app (issue 20, item 7): found with crafted URLs against a real server, checked the same way."""

from __future__ import annotations

import html
import re
import urllib.parse
import urllib.request

import pytest

from tests.http_customer import Customer


class DoNotFollow(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def press(customer: Customer, path: str, button: str) -> tuple[int, str]:
    """GET `path` like a browser, then press the language or a mode button on that page as it was rendered;
    the status and the Location of the answer, not followed."""
    try:
        customer.get(path)
    except urllib.error.HTTPError as error:  # the 404 page carries the same buttons
        customer._read(error)
    form_action = {"language": "/language", "accessibility": "/accessibility"}[button]
    form = re.search(rf'action="{form_action}".*?</form>', customer.page, re.S).group(0)
    fields = {name: html.unescape(value) for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', form)}
    body = urllib.parse.urlencode(fields).encode()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(customer.jar), DoNotFollow)
    try:
        with opener.open(customer.base + form_action, data=body, timeout=30) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


@pytest.mark.parametrize("button", ["language", "accessibility"])
@pytest.mark.parametrize("path", ["/%09/evil.example", "/%5C/evil.example", "/%2F/evil.example",
                                  "/%0d%0aX:1", "/%E2%80%A8x", "/%EF%BC%8F%EF%BC%8Fevil.example"])
def test_a_crafted_url_then_a_settings_button_stays_on_this_app(live_server, path, button):
    status, location = press(Customer(live_server.url), path, button)

    assert status == 303
    target = urllib.parse.urlsplit(location)
    assert target.netloc in ("", f"127.0.0.1:{live_server.port}") and target.scheme in ("", "http")
    assert target.path.startswith("/") and not target.path.startswith(("//", "/\\"))
    assert not re.search(r"[\x00-\x1f\x7f\\]", urllib.parse.unquote(location))


def test_the_settings_buttons_still_come_back_to_the_step(live_server):
    customer = Customer(live_server.url)
    customer.get("/")
    customer.post("/start")

    status, location = press(customer, "/journey/service", "language")

    assert status == 303 and location.endswith("/journey/service")

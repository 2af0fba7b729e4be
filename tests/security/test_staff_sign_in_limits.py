"""Nobody can lock the staff out of /staff (issue 20, item 4): failed sign-ins count per staff name, names
that are not staff count per source address, each lock lasts twice the one before, and the counts survive
a restart. Over HTTP against a real server, as found; the clock is moved by hand."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request

import pytest

from kiosk.staff import add_staff
from kiosk.web import create_app
from tests.conftest import LiveServer
from tests.http_customer import Customer

PIN = "482916"
OTHER_PIN = "739150"


@pytest.fixture(autouse=True)
def staff_members(app):
    add_staff(app.extensions["kiosk"].store, "김직원", PIN)
    add_staff(app.extensions["kiosk"].store, "이직원", OTHER_PIN)


class DoNotFollow(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_in(server, name: str, pin: str) -> int:
    """A fresh browser at the sign-in page; the status of its POST (303 means signed in)."""
    browser = Customer(server.url)
    browser.get("/staff/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.page).group(1)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(browser.jar), DoNotFollow)
    body = urllib.parse.urlencode({"csrf_token": token, "name": name, "pin": pin}).encode()
    try:
        with opener.open(server.url + "/staff/sign-in", data=body, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_stranger_typing_names_that_are_not_staff_never_locks_the_staff_out(live_server):
    answers = [sign_in(live_server, "nobody", "000000") for _ in range(12)]

    assert set(answers) <= {401, 429} and 429 in answers, "the stranger's own source is held back"
    assert sign_in(live_server, "김직원", PIN) == 303


def test_five_wrong_pins_lock_that_name_only_and_each_lock_lasts_twice_as_long(live_server, clock):
    for _ in range(5):
        assert sign_in(live_server, "김직원", "000000") == 401
    assert sign_in(live_server, "김직원", PIN) == 429
    assert sign_in(live_server, "이직원", OTHER_PIN) == 303, "another staff member is not locked"

    clock.advance(301)
    for _ in range(5):
        assert sign_in(live_server, "김직원", "000000") == 401
    clock.advance(301)
    assert sign_in(live_server, "김직원", PIN) == 429, "the second lock lasts ten minutes"
    clock.advance(300)
    assert sign_in(live_server, "김직원", PIN) == 303


def test_the_sign_in_lock_survives_a_restart(app, app_config, live_server):
    for _ in range(5):
        sign_in(live_server, "김직원", "000000")
    live_server.stop()

    restarted = create_app(app_config)
    restarted.config["WTF_CSRF_ENABLED"] = True
    server = LiveServer(restarted).start()
    try:
        assert sign_in(server, "김직원", PIN) == 429
    finally:
        server.stop()
        restarted.extensions["kiosk"].store.close_all()

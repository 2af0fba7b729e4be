"""The idle warning in the browser: a countdown with 시간 연장, then the reset to the attract screen."""

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config):
    return {**app_config, "idle_seconds": 1, "idle_warning_seconds": 3}


def start_journey(page):
    page.goto("/")
    page.locator("#start").tap()
    page.wait_for_url("**/journey/service")


def test_the_warning_offers_more_time_and_keeps_the_place(page):
    start_journey(page)
    warning = page.locator("#idle-warning")
    warning.wait_for(state="visible", timeout=5000)
    assert "시간 연장" in warning.inner_text()
    page.locator("#idle-extend").tap()
    assert warning.is_hidden()
    assert page.url.endswith("/journey/service")


def test_without_a_touch_the_screen_returns_to_the_attract_screen(page):
    start_journey(page)
    page.locator("#idle-warning").wait_for(state="visible", timeout=5000)
    page.locator("#start").wait_for(timeout=10_000)
    assert "/journey/" not in page.url
    page.go_back()  # the previous customer's step is gone: the server sends the attract screen
    page.locator("#start").wait_for(timeout=5000)
    assert "/journey/" not in page.url

"""The end of a visit in the browser: the page that stays (htmx swaps #screen only) carries the new
session's CSRF token, so the requests it makes without a form — the screen's report to the doctor, the
voice, 시간 연장 — are not refused. Seen on the booted appliance: after 처음으로, every screen report was
refused, and a minute later the screen timer restarted a browser that was working."""

import pytest

pytestmark = pytest.mark.browser


def next_screen_report(page):
    return page.expect_response(lambda r: r.url.endswith("/healthz/screen") and r.request.method == "POST",
                                timeout=40_000)


@pytest.mark.parametrize("ending", ["#start-over", "#idle-reset-form"])
def test_after_the_visit_ends_the_pages_own_requests_carry_the_new_token(page, ending):
    page.goto("/")
    page.locator("#start").tap()
    page.wait_for_url("**/journey/service")
    if ending == "#start-over":
        page.locator("#start-over").tap()
    else:
        page.locator("#idle-reset-form").evaluate("form => form.requestSubmit()")
    page.wait_for_selector('#screen[data-step="attract"]')
    with next_screen_report(page) as report:
        pass
    assert report.value.status < 400, report.value.text()
    token = page.locator("#screen input[name=csrf_token]").first.get_attribute("value")
    assert token in page.locator("body").get_attribute("hx-headers")

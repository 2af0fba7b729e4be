"""What the result screens say (issue 26, item 14), over real HTTP on sticks the kiosk wrote: a copy of a
certificate already in its renewal window says it can be renewed now (not a date gone by); inside 갱신 a
certificate near its expiry is offered for renewal here, not sent back to the first screen; the issuer
reads the same on the check screen and on the done screen."""

from __future__ import annotations

import re

from tests.http_customer import Customer, insert_drive, issue_to
from tests.journey.test_manage import issue_certificate, pick_certificate, prove_identity, start
from tests.walker import GOOD_PASSWORD


def issuer_shown(page: str) -> str:
    return re.search(r"<dt>발급기관</dt><dd>([^<]+)</dd>", page).group(1)


def test_a_copy_in_its_renewal_window_says_renew_now_and_names_the_issuer_as_the_check_screen(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive, days_ago=345)  # 20 days left: inside the 30-day window

    start(customer, "check")
    customer.post("/journey/check", {"drive_id": drive.id})
    on_the_check_screen = issuer_shown(customer.page)
    customer.post("/reset")

    insert_drive(app)
    start(customer, "copy")
    customer.post("/journey/source", {"drive_id": drive.id})
    pick_certificate(customer, GOOD_PASSWORD)
    issue_to(customer, insert_drive(app, "second").id)
    assert "인증서를 복사했습니다" in customer.page
    assert "지금 갱신할 수 있습니다" in customer.page
    assert not re.search(r'class="renewal-date">[^<]*부터', customer.page), "a date gone by"
    assert issuer_shown(customer.page) == on_the_check_screen


def test_inside_renewal_a_certificate_near_expiry_is_offered_here_not_sent_back(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive, days_ago=345)
    start(customer, "renew")
    prove_identity(app, customer)
    customer.post("/journey/source", {"drive_id": drive.id})
    assert "곧 만료됩니다" in customer.page
    assert "처음 화면의 '갱신'에서" not in customer.page and "처음 화면의 &#39;갱신&#39;에서" not in customer.page
    assert "지금 갱신할 수 있습니다" in customer.page

"""Every numeric field reads digits the same way (issue 20, item 8): full-width digits from a Korean IME
mean the same number (NFKC), and input that cannot be right is refused by the form, never counted as a
wrong PIN. Over HTTP against a real server, as found."""

from __future__ import annotations

from kiosk.identity.demo import DEMO_CUSTOMERS
from kiosk.pii import customer_key
from tests.http_customer import Customer, walk_to_identity
from tests.walker import identity_form, last_code

HONG = DEMO_CUSTOMERS[0]
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def full_width(text: str) -> str:
    return text.translate(FULL_WIDTH)


def failures(app) -> int:
    services = app.extensions["kiosk"]
    return services.lockouts.failures(customer_key(services.settings.customer_hash_key, HONG.rrn))


def test_full_width_digits_in_every_field_walk_the_journey_like_ascii(app, live_server):
    customer = Customer(live_server.url)
    walk_to_identity(customer)
    front, back = HONG.rrn.split("-")

    customer.post("/journey/identity", identity_form(
        HONG, rrn_front=full_width(front), rrn_back=full_width(back),
        issue_date=full_width(HONG.id_issue_date.replace("-", ""))))
    assert customer.url.endswith("/journey/account"), customer.page
    customer.post("/journey/account", {"account": full_width(HONG.account), "pin": full_width(HONG.pin)})
    assert customer.url.endswith("/journey/email"), customer.page
    customer.post("/journey/email", {"code": full_width(last_code(app))})
    assert customer.url.endswith("/journey/password"), customer.page
    assert failures(app) == 0


def test_digits_that_cannot_be_a_pin_are_refused_and_never_counted(app, live_server):
    customer = Customer(live_server.url)
    walk_to_identity(customer)
    customer.post("/journey/identity", identity_form(HONG))

    customer.post("/journey/account", {"account": HONG.account, "pin": HONG.pin.translate(ARABIC_INDIC)})

    assert customer.status == 422 and "계좌 비밀번호는 숫자 4자리입니다" in customer.page
    assert "남은 횟수" not in customer.page and failures(app) == 0

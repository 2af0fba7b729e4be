"""Each step's validation through the Flask test client: good, boundary and hostile input get a polite
message on the screen, never a 500; steps cannot be skipped or done twice."""

import pytest

from tests.walker import HONG, identity_form, last_code

HOSTILE = [
    "",
    " ",
    "a" * 5000,
    "홍길동😀",
    "홍\x00길\x1b동",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\u202e동길홍",
    "../../etc/passwd",
]


def test_a_step_typed_out_of_order_lands_on_the_current_step(walker):
    walker.start()
    response = walker.client.get("/journey/password")
    assert response.status_code == 303 and response.headers["Location"].endswith("/journey/consent")


def test_without_a_session_every_step_goes_to_the_attract_screen(client):
    response = client.get("/journey/identity")
    assert response.status_code == 303 and response.headers["Location"].endswith("/")
    assert client.post("/journey/identity", data=identity_form()).status_code == 303


def test_an_unknown_step_is_a_friendly_404(walker):
    walker.start()
    assert walker.client.get("/journey/nope").status_code == 404


def test_consent_requires_both_boxes(walker):
    walker.start()
    response = walker.post("/journey/consent", {"terms": "y"})
    assert response.status_code == 422
    assert "개인정보 수집·이용에 동의해 주셔야" in response.get_data(as_text=True)
    assert walker.current_step() == "consent"


@pytest.mark.parametrize("field", ["name", "rrn_front", "rrn_back", "issue_date", "id_kind"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_identity_input_gets_a_message_not_a_500(walker, field, value):
    walker.to_identity()
    response = walker.post("/journey/identity", identity_form(**{field: value}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert 'role="alert"' in page
    assert walker.current_step() == "identity"


def test_an_impossible_birth_date_is_refused(walker):
    walker.to_identity()
    response = walker.post("/journey/identity", identity_form(rrn_front="901301"))
    assert "주민등록번호를 다시 확인해 주세요" in response.get_data(as_text=True)


def test_a_wrong_check_digit_is_only_a_hint(walker):
    """Numbers issued since 2020-10 have random digits: the checksum never blocks by itself."""
    walker.to_identity()
    response = walker.post("/journey/identity", identity_form(rrn_back="1234567"))
    assert response.status_code == 422
    assert "일치하는 고객을 찾지 못했습니다" in response.get_data(as_text=True)


def test_the_right_identity_moves_on_to_the_account(walker):
    response = walker.to_account()
    assert response.status_code == 303 and response.headers["Location"].endswith("/journey/account")


def test_the_identity_page_never_echoes_the_resident_number_back(walker):
    walker.to_identity()
    response = walker.post("/journey/identity", identity_form(name="홍길순"))
    page = response.get_data(as_text=True)
    assert HONG.rrn.split("-")[1] not in page


def test_wrong_pins_count_down_then_lock_for_good(walker, app):
    walker.to_account()
    messages = []
    for _ in range(5):
        response = walker.post("/journey/account", {"account": HONG.account, "pin": "0000"})
        messages.append(response.get_data(as_text=True))
    assert "남은 횟수: 4회" in messages[0] and "남은 횟수: 1회" in messages[3]
    assert "잠겼습니다" in messages[4]
    response = walker.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})
    assert "잠겼습니다" in response.get_data(as_text=True)
    # a fresh visit is stopped at the identity step
    walker.post("/reset")
    response = walker.to_account()
    assert "잠겨 있습니다" in response.get_data(as_text=True)


@pytest.mark.parametrize("pin", ["", "12", "12345", "abcd", "12😀4", "1' OR '1"])
def test_a_malformed_pin_is_refused_without_counting(walker, app, pin):
    walker.to_account()
    response = walker.post("/journey/account", {"account": HONG.account, "pin": pin})
    assert response.status_code == 422
    assert walker.services.lockouts.failures(walker.visit().customer.customer_key) == 0


def test_the_email_step_shows_the_address_masked_and_sends_a_code(walker, app):
    walker.to_email()
    page = walker.client.get("/journey/email").get_data(as_text=True)
    assert "h***@example.com" in page and "hong@example.com" not in page
    assert len(app.extensions["kiosk"].code_sender.recent()) == 1


def test_the_code_leaves_with_the_account_post_and_showing_the_step_again_sends_nothing(walker, app):
    walker.to_account()
    walker.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})
    assert len(app.extensions["kiosk"].code_sender.recent()) == 1
    for _ in range(3):  # a reload, the back button, a prefetch: a GET never sends mail
        walker.client.get("/journey/email")
    assert len(app.extensions["kiosk"].code_sender.recent()) == 1


def test_a_wrong_code_says_how_many_tries_are_left(walker, app):
    walker.to_email()
    code = last_code(app)
    wrong = "000000" if code != "000000" else "111111"
    response = walker.post("/journey/email", {"code": wrong})
    assert "남은 횟수: 4회" in response.get_data(as_text=True)


def test_a_resend_too_soon_says_how_long_to_wait(walker):
    walker.to_email()
    response = walker.post("/journey/email/resend")
    assert "초 후에 다시 받을 수 있습니다" in response.get_data(as_text=True)


def test_resend_after_thirty_seconds_sends_a_new_code(walker, app):
    walker.to_email()
    walker.visit().challenge.sent_at -= 30
    walker.post("/journey/email/resend")
    assert len(app.extensions["kiosk"].code_sender.recent()) == 2


def test_the_right_code_moves_on_to_the_password(walker):
    response = walker.to_password()
    assert response.headers["Location"].endswith("/journey/password")


def test_a_replayed_code_post_does_nothing_twice(walker, app):
    walker.to_password()
    response = walker.post("/journey/email", {"code": "123456"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/journey/password")


@pytest.mark.parametrize("password, rule", [
    ("Short!1a", "length"),
    ("NoDigits!!xy", "digit"),
    ("NoSpecial12x", "special"),
    ("Has|Pipe12x!", "forbidden_char"),
    ("Aaa!1111xyz", "repeat"),
    ("Kabc!1357x9", "sequence"),
])
def test_the_password_rules_are_checked_as_the_customer_types(walker, password, rule):
    walker.to_password()
    fragment = walker.post("/journey/password/check", {"password": password}).get_data(as_text=True)
    assert f'class="rule unmet" data-rule="{rule}"' in fragment
    assert password not in fragment


def test_the_password_must_be_typed_twice_the_same(walker):
    walker.to_password()
    response = walker.post("/journey/password", {"password": "Kiosk!2580x", "confirm": "Kiosk!2580y"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "두 비밀번호가 다릅니다" in page and "Kiosk!2580" not in page


def test_start_over_wipes_the_customer(walker):
    walker.to_password()
    walker.post("/reset")
    assert walker.visit() is None
    response = walker.client.get("/journey/password")
    assert response.headers["Location"].endswith("/")

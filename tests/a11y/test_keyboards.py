"""The on-screen keyboards in Chromium: the journey typed only on them, Hangul composition, the secure
keypad's server-side shuffle, and the secrets that must never appear in the DOM as text."""

import pytest

from kiosk.journey import Step
from tests.a11y.kiosk_ui import GOOD_PASSWORD, HONG

pytestmark = pytest.mark.browser


def test_journey_to_the_drive_step_typed_only_on_the_screen_keyboards(ui, page):
    """Name on the Hangul keyboard, numbers on the keypads, the password on QWERTY: no fill(), no
    system keyboard; the server accepts every step and the customer reaches the drive step."""
    ui.walk_to("password")
    assert ui.visit().customer is not None            # identity and account were accepted as typed
    ui.fill_password()                    # the confirmation sends the form when it matches
    page.wait_for_url("**/journey/drive", wait_until="commit")
    assert ui.visit().journey.current is Step.DRIVE


def test_journey_to_done_typed_only_on_the_screen_keyboards(ui, page, app):
    """From the first screen to a certificate on the stick, every character typed on the screen keyboards."""
    from hardware.demo import insert_demo_drive

    insert_demo_drive(app.extensions["kiosk"].settings.data_dir, "stick", label="MYUSB")
    ui.walk_to("password")
    ui.fill_password()
    ui.wait_step("drive")
    ui.tap("#drive-list button:not([disabled])")
    ui.wait_step("issuing")
    page.wait_for_selector('#screen[data-step="done"]', timeout=60_000)
    assert page.locator("#finish").is_visible()


@pytest.mark.parametrize(("keys", "expected"), [
    ("ㅎㅗㅇ", "홍"),                  # the case issue #8 names
    ("ㅎㅗㅇㄱㅣㄹㄷㅗㅇ", "홍길동"),
    ("ㄱㅗㅏ", "과"),                  # ㅗ+ㅏ=ㅘ
    ("ㅇㅜㅓㄴ", "원"),                # ㅜ+ㅓ=ㅝ
    ("ㅇㅡㅣ", "의"),                  # ㅡ+ㅣ=ㅢ
    ("ㄷㅏㄹㄱ", "닭"),                # ㄹ+ㄱ=ㄺ
    ("ㄱㅏㄱㅅ", "갃"),                # ㄱ+ㅅ=ㄳ
    ("ㄱㅏㄱㅏ", "가가"),              # a final moves to the next syllable when a vowel follows
    ("ㄷㅏㄹㄱㅏ", "달가"),            # ...and only the second part of a compound final moves
    ("ㄲㅗㅊ", "꽃"),                  # shift gives the doubled consonant
    ("ㅇㅖ", "예"),                    # shift gives ㅖ
    ("ㄱㅣㅁ ㅇㅕㅇㅎㅡㅣ", "김 영희"),  # a space commits the syllable before it
])
def test_hangul_composition(ui, page, keys, expected):
    ui.walk_to("identity")
    ui.focus_field("#name")
    ui.type_jamo(keys)
    assert ui.value("#name") == expected


@pytest.mark.parametrize(("keys", "backspaces", "expected"), [
    ("ㅎㅗㅇ", 1, "호"),              # backspace decomposes: one jamo at a time
    ("ㅎㅗㅇ", 2, "ㅎ"),
    ("ㅎㅗㅇ", 3, ""),
    ("ㄱㅗㅏ", 1, "고"),              # ㅘ -> ㅗ
    ("ㄷㅏㄹㄱ", 1, "달"),            # ㄺ -> ㄹ
    ("ㅎㅗㅇㄱㅣㄹ", 1, "홍기"),      # earlier syllables stay as they are
])
def test_hangul_backspace_undoes_one_jamo(ui, keys, backspaces, expected):
    ui.walk_to("identity")
    ui.focus_field("#name")
    ui.type_jamo(keys)
    for _ in range(backspaces):
        ui.action("backspace").tap()
    assert ui.value("#name") == expected


def typed_rows(page) -> list[str]:
    return page.eval_on_selector_all("#osk-host .osk-row", """rs => rs.map(r =>
        [...r.querySelectorAll('[data-action=type]')].map(k => k.dataset.value).join(''))""")


def test_hangul_keyboard_has_the_dubeolsik_rows_and_shift(ui, page):
    ui.walk_to("identity")
    ui.focus_field("#name")
    assert typed_rows(page)[:3] == ["ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔ", "ㅁㄴㅇㄹㅎㅗㅓㅏㅣ", "ㅋㅌㅊㅍㅠㅜㅡ"]
    ui.action("shift").tap()
    assert typed_rows(page)[0] == "ㅃㅉㄸㄲㅆㅛㅕㅑㅒㅖ"


def test_qwerty_types_capitals_digits_and_symbols(ui, page):
    ui.walk_to("password")
    ui.focus_field("#password")
    ui.type_latin("aZ9!@#$%^&*()-_=+[]{};:,.?/~<>")
    assert ui.value("#password") == "aZ9!@#$%^&*()-_=+[]{};:,.?/~<>"
    # the characters the password rules refuse are not offered at all
    offered = "".join(typed_rows(page))            # the symbols page, where the last key was
    ui.action("page", "latin").tap()
    offered += "".join(typed_rows(page))
    assert set("!@#$%^&*") <= set(offered) and set("qwertyuiop1234567890") <= set(offered)
    assert not set("'\"\\|") & set(offered)


def test_password_rules_update_live_while_typing_on_the_screen(ui, page):
    """The keyboard fires input events, so htmx's live rule check follows each key (and the keyboard
    stays open while the rules are swapped in)."""
    ui.walk_to("password")
    ui.focus_field("#password")
    ui.type_latin(GOOD_PASSWORD)
    # each key sends a check; the answer to the last one lands when the server has seen every key
    page.wait_for_selector("#password-rules:has(.rule.met):not(:has(.rule.unmet))")
    assert ui.keyboard().is_visible()


def keypad_order(page, field):
    return page.eval_on_selector_all(
        "#osk-host .osk-digits > *", "ks => ks.map(k => k.dataset ? (k.dataset.value || '') : '')")


def test_secure_keypad_layout_comes_from_the_server_and_differs_between_showings(ui, page):
    ui.walk_to("account")
    layouts, drawn = [], []
    for _ in range(4):
        attr = page.locator("#pin").get_attribute("data-keypad-layout").split(",")
        ui.focus_field("#pin")
        drawn.append(keypad_order(page, "pin"))
        layouts.append(attr)
        page.reload()
        ui.wait_step("account")
    for attr, keys in zip(layouts, drawn, strict=True):
        assert sorted(attr) == ["", ""] + list("0123456789")  # ten digits, two blanks
        assert keys == attr                                   # drawn in the order the server rendered
    # 12!/2 orders: four equal in a row would mean no shuffle
    assert len({tuple(a) for a in layouts}) == 4


def test_plain_numeric_keypad_is_in_telephone_order(ui, page):
    ui.walk_to("identity")
    ui.focus_field("#rrn_front")
    assert keypad_order(page, "rrn_front") == list("123456789") + ["", "0", ""]


def test_pin_and_resident_number_never_appear_as_text_in_the_dom(ui, page):
    ui.walk_to("identity")
    ui.fill_identity()
    back = HONG.rrn.split("-")[1]
    assert back not in page.content()
    ui.wait_step("account")
    ui.fill_account(pin=HONG.pin[:3])             # three digits: the fourth would send the form
    html = page.content()
    assert page.locator("#pin").get_attribute("type") == "password"
    assert page.locator("#pin").input_value() == HONG.pin[:3]                # it is in the field...
    assert f'value="{HONG.pin[:3]}"' not in html and back not in html         # ...not in the markup
    texts = page.evaluate("document.body.innerText")
    assert HONG.pin[:3] not in texts


def test_keys_are_large_and_give_press_feedback(ui, page):
    ui.walk_to("identity")
    ui.focus_field("#name")
    sizes = page.eval_on_selector_all("#osk-host .key", """ks => ks.map(k => {
        const r = k.getBoundingClientRect(); return [r.width, r.height]; })""")
    assert sizes and all(w >= 80 and h >= 80 for w, h in sizes), sizes
    key = ui.key("ㅎ")
    box = key.bounding_box()
    before = key.evaluate("k => getComputedStyle(k).backgroundColor")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(100)   # UX.md: feedback within 100 ms
    during = key.evaluate("k => [k.classList.contains('pressed'), getComputedStyle(k).backgroundColor]")
    page.mouse.up()
    assert during[0] and during[1] != before
    assert page.evaluate("document.activeElement.id") == "name"   # a key press never steals the focus


def test_no_zoom_no_selection_no_system_keyboard(ui, page):
    ui.walk_to("identity")
    viewport = page.locator('meta[name="viewport"]').get_attribute("content")
    assert "user-scalable=no" in viewport and "maximum-scale=1" in viewport
    css = page.evaluate("""[getComputedStyle(document.body).userSelect,
                            getComputedStyle(document.body).touchAction]""")
    assert css[0] == "none" and css[1] == "manipulation"
    for field in page.locator("input[data-keyboard]").all():
        assert field.get_attribute("inputmode") == "none"


def test_done_key_moves_to_the_next_field_and_sends_the_form_from_the_last(ui, page):
    ui.walk_to("identity")
    page.wait_for_selector('#osk-host .osk[data-for="name"]')     # open as the form appears, no tap
    ui.type_jamo("ㅎㅗㅇㄱㅣㄹㄷㅗㅇ")
    ui.done()
    page.wait_for_selector('#osk-host .osk[data-for="rrn_front"]')
    front, back = HONG.rrn.split("-")
    ui.type_digits(front + back)                                   # each part moves on when complete
    ui.focus_field("#issue_date")
    ui.type_digits("2015030")                                      # one digit short: nothing sent yet
    assert ui.step() == "identity" and page.locator(".field-error").count() == 0
    ui.done()                                                      # the last field: the form is sent
    page.wait_for_selector("#identity-form .field-error")
    assert "8자리" in page.locator("#identity-form .field-error").inner_text()


def test_a_complete_field_moves_on_by_itself_and_maxlength_holds(ui, page):
    ui.walk_to("identity")
    ui.focus_field("#rrn_front")
    ui.type_digits("900101")                                       # six digits: on to the back part
    page.wait_for_selector('#osk-host .osk[data-for="rrn_back"]')
    ui.type_digits("1")
    assert (ui.value("#rrn_front"), ui.value("#rrn_back")) == ("900101", "1")
    assert page.locator("#rrn_back").get_attribute("type") == "password"     # drawn as dots
    ui.action("clear").tap()
    assert ui.value("#rrn_back") == ""
    ui.focus_field("#name")
    ui.type_jamo("ㅎ" * 31)
    assert len(ui.value("#name")) == 30

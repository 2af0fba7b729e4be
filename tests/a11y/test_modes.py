"""Accessibility modes and languages as session state, the palettes' contrast computed from the CSS the
browser applies, physical-keypad navigation, and the idle warning's "more time"."""

from __future__ import annotations

import pytest

from tests.a11y.kiosk_ui import HONG, SPEECH_HOOK

pytestmark = pytest.mark.browser


def test_accessibility_route_toggles_a_mode_and_comes_back(client):
    """POST /accessibility flips one mode in the server session and redirects to `next` (same place)."""
    response = client.post("/accessibility", data={"mode": "high-contrast", "next": "/staff/sign-in"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/sign-in")
    assert 'class="high-contrast"' in client.get("/").get_data(as_text=True)
    client.post("/accessibility", data={"mode": "large-text"})
    assert 'class="large-text high-contrast"' in client.get("/").get_data(as_text=True)
    client.post("/accessibility", data={"mode": "high-contrast"})
    assert 'class="large-text"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("data", [{"mode": "evil"}, {"mode": "speech", "next": "//evil.example/"},
                                  {"mode": "speech", "next": "https://evil.example/"}])
def test_accessibility_route_refuses_unknown_modes_and_foreign_redirects(client, data):
    response = client.post("/accessibility", data=data)
    assert response.headers["Location"] == "/"
    assert "evil" not in client.get("/").get_data(as_text=True)


def test_mode_and_language_switches_keep_the_customers_place(ui, page):
    ui.walk_to("account")
    ui.set_mode("large-text")
    assert page.url.endswith("/journey/account") and ui.step() == "account"
    ui.set_language("en")
    assert page.url.endswith("/journey/account")
    assert page.locator("#panel h1").inner_text() == "Confirm your account"
    assert "large-text" in page.locator("html").get_attribute("class")   # the mode survived the switch
    ui.fill_account()                                                  # the PIN's last digit sends it
    ui.wait_step("email")                                              # and htmx swaps keep it too
    assert "large-text" in page.locator("html").get_attribute("class")
    assert page.locator("#mode-large-text").get_attribute("aria-pressed") == "true"


def test_start_over_returns_to_the_default_modes_for_the_next_customer(ui, page):
    page.goto("/")
    ui.set_mode("high-contrast")
    ui.start()
    with page.expect_navigation():
        ui.tap("#start-over")
    assert "high-contrast" not in (page.locator("html").get_attribute("class") or "")


def test_dates_follow_the_locale(app):
    """Dates go through Babel's format_date with the customer's locale (the done and replace screens)."""
    from datetime import date

    from flask import session

    with app.test_request_context():
        render = app.jinja_env.from_string("{{ format_date(d, 'long') }}").render
        session["lang"] = "ko"
        korean = render(d=date(2027, 3, 2))
        session["lang"] = "en"
        from flask_babel import refresh

        refresh()
        english = render(d=date(2027, 3, 2))
    assert korean == "2027년 3월 2일" and english == "March 2, 2027"


def luminance(rgb):
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a, b):
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


PAIRS = [("--fg", "--bg"), ("--muted", "--bg"), ("--brand-fg", "--brand"), ("--accent-fg", "--accent"),
         ("--ok", "--bg"), ("--err", "--bg"), ("--fg", "--surface"), ("--muted", "--surface"),
         ("--accent", "--bg")]


@pytest.mark.parametrize(("mode", "minimum"), [("normal", 4.5), ("high-contrast", 7.0)])
def test_palette_contrast(ui, page, mode, minimum):
    """Every text/background pair of the palette, as the browser resolves the CSS variables."""
    page.goto("/")
    if mode != "normal":
        ui.set_mode(mode)
    colours = page.evaluate("""(names) => { const s = getComputedStyle(document.documentElement);
        const probe = document.createElement('i'); document.body.appendChild(probe);
        const out = {}; for (const n of names) { probe.style.color = s.getPropertyValue(n).trim();
          out[n] = getComputedStyle(probe).color.match(/\\d+/g).slice(0, 3).map(Number); }
        probe.remove(); return out; }""", sorted({n for pair in PAIRS for n in pair}))
    low = {f"{fg} on {bg}": round(ratio(colours[fg], colours[bg]), 2) for fg, bg in PAIRS
           if ratio(colours[fg], colours[bg]) < minimum}
    assert low == {}


def test_physical_keypad_reaches_and_operates_every_control_with_arrows_and_enter(ui, page):
    """Arrow keys walk the controls in document order (wrapping), Enter ticks boxes and presses buttons,
    and inside an on-screen keyboard the arrows move on its grid."""
    page.goto("/")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == "start"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    ui.wait_step("service")
    page.keyboard.press("ArrowDown")                 # from the heading to the first choice
    assert page.evaluate("document.activeElement.id") == "service-new"
    page.keyboard.press("Enter")
    ui.wait_step("consent")
    order = []
    for _ in range(12):
        page.keyboard.press("ArrowDown")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.className"))
    # the terms (scrollable), both boxes, continue, the settings, the two fixed buttons, then round again
    assert order == ["terms", "terms", "privacy", "consent-next", "lang-toggle", "mode-large-text",
                     "mode-high-contrast", "mode-low-position", "mode-speech", "start-over", "call-staff",
                     "terms"]
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.id") == "call-staff"        # and back the other way
    for box in ("#terms", "#privacy"):
        page.focus(box)
        page.keyboard.press("Enter")
        assert page.locator(box).is_checked()
    page.focus("#consent-next")
    page.keyboard.press("Enter")
    ui.wait_step("identity")
    page.wait_for_selector("#identity-form")         # no camera here: the keyboard form, by itself
    ui.wait_step("identity")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == "name"
    page.keyboard.press("Enter")                     # opens the keyboard and goes to its first key
    assert page.evaluate("document.activeElement.dataset.value") == "ㅂ"
    page.keyboard.press("ArrowDown")                 # ㅂ -> ㅁ (the key below)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")                # ㅁ ㄴ ㅇ
    assert page.evaluate("document.activeElement.dataset.value") == "ㅇ"
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")                   # back to the field above the keyboard
    assert page.evaluate("document.activeElement.id") == "name"
    assert ui.value("#name") == "ㅇ"
    assert page.locator("#osk-host .osk").count() == 1


def test_idle_warning_offers_more_time_and_is_spoken(ui, page, app):
    page.add_init_script(SPEECH_HOOK)
    page.goto("/")
    ui.set_mode("speech")
    ui.start()
    page.evaluate("document.getElementById('screen').dataset.idleSeconds = '1'")
    page.wait_for_selector("#idle-warning:not([hidden])", timeout=5000)
    extend = page.locator("#idle-extend")
    assert page.evaluate("document.activeElement.id") == "idle-extend"   # one key press away
    box = extend.bounding_box()
    assert box["height"] >= 80 and box["width"] >= 80
    assert any("계속 이용하시겠습니까?" in u["text"] for u in page.evaluate("window.__spoken"))
    with page.expect_response("**/session/extend") as extended:
        extend.tap()
    assert extended.value.status == 204
    assert page.locator("#idle-warning").is_hidden()


def test_spoken_guidance_reads_the_step_in_the_customers_language(ui, page):
    page.add_init_script(SPEECH_HOOK)
    page.goto("/")
    ui.set_language("en")
    assert page.evaluate("window.__spoken") == []                    # silent until the customer asks
    ui.set_mode("speech")
    ui.walk_to("identity")
    said = page.evaluate("window.__spoken")
    guidance = "Confirm your identity. Please enter the details exactly as they appear on your ID card."
    picture = "Resident registration card: the issue date is at the bottom centre of the card"
    assert any(u["lang"] == "en-US" and u["text"].startswith(guidance) and picture in u["text"] for u in said), said
    ui.focus_field("#rrn_back")
    ui.type_digits(HONG.rrn[-7:])
    spoken_text = " ".join(u["text"] for u in page.evaluate("window.__spoken"))
    assert HONG.rrn[-7:] not in spoken_text and "Entered" in spoken_text      # secrets are never read out


def test_the_customer_sets_the_voices_speed_and_volume_by_touch_and_the_next_visit_starts_over(ui, page):
    """Voice guidance's own controls (issue 26, item 15): each tap is one of five steps, the next thing
    said uses it, the last step cannot be passed, and 처음으로 brings the middle steps back."""
    from kiosk.speech import DEFAULT_STEP, RATE_STEPS, VOLUME_STEPS

    page.add_init_script(SPEECH_HOOK)
    page.goto("/")
    assert page.locator("#voice-faster").count() == 0              # only with voice guidance on
    ui.set_mode("speech")
    ui.start()
    for control in ("#voice-faster", "#voice-faster", "#voice-quieter"):
        with page.expect_navigation():
            ui.tap(control)
    assert page.url.endswith("/journey/service")                    # the customer's place is kept
    assert page.locator("#voice-rate").inner_text() == "빠르기 5/5"
    assert page.locator("#voice-faster").is_disabled() and page.locator("#voice-volume").inner_text() == "소리 2/5"
    page.wait_for_function("window.__spoken.length > 0")
    last = page.evaluate("window.__spoken")[-1]
    assert (last["rate"], last["volume"]) == (RATE_STEPS[-1], VOLUME_STEPS[DEFAULT_STEP - 1]), last

    with page.expect_navigation():
        ui.tap("#start-over")
    ui.set_mode("speech")
    assert page.locator("#voice-rate").inner_text() == f"빠르기 {DEFAULT_STEP + 1}/5"
    page.wait_for_function("window.__spoken.length > 0")
    last = page.evaluate("window.__spoken")[-1]
    assert (last["rate"], last["volume"]) == (RATE_STEPS[DEFAULT_STEP], VOLUME_STEPS[DEFAULT_STEP]), last


def test_voice_steps_stay_within_their_range_whatever_is_posted(client):
    for change in ("louder",) * 9 + ("faster", "sideways", "") :
        client.post("/accessibility/voice", data={"change": change, "next": "/"})
    with client.session_transaction() as session:
        assert session["voice"] == [3, 4]
    with client.session_transaction() as session:
        session["voice"] = [99, "x"]                                  # what no route writes: the middle steps
    assert 'data-voice-rate="0.95" data-voice-volume="1.0"' in client.get("/").get_data(as_text=True)


def test_physical_keypad_reaches_a_certificate_card_and_its_focus_is_seen(ui, page, app, live_server):
    """On the source step (공동인증서 관리) the arrows go from the heading to the certificate's radio card,
    whose whole card shows the focus outline, and on to the current-password field."""
    from tests.browser.test_manage_touch import issued_stick, plug_in

    stick = issued_stick(app, live_server)
    page.goto("/")
    ui.start()
    ui.submit("#service-change-password", "source")
    plug_in(app, "stick")
    page.locator(f'#drive-list button.drive[value="{stick.id}"]').tap()
    page.wait_for_selector("#stick-certificates")
    ui.wait_step("source")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.name") == "folder"
    card = page.locator("label.certificate-card:has(input[name=folder])")
    outline = card.evaluate("c => [getComputedStyle(c).outlineStyle, parseFloat(getComputedStyle(c).outlineWidth)]")
    assert outline[0] == "solid" and outline[1] >= 4
    page.keyboard.press("Enter")
    assert page.locator("input[name=folder]").is_checked()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == "password"
    assert card.evaluate("c => getComputedStyle(c).outlineStyle") == "none"    # the outline went with the focus


def test_physical_keypad_reaches_the_check_screens_certificate_cards_and_they_are_spoken(ui, page, app,
                                                                                        live_server):
    """내 인증서 확인 (issue 26, item 13): the arrows reach each certificate card, which shows the focus and,
    with voice guidance on, says its status, validity and days left."""
    from tests.browser.test_manage_touch import issued_stick, plug_in

    stick = issued_stick(app, live_server)
    page.add_init_script(SPEECH_HOOK)
    page.goto("/")
    ui.set_mode("speech")
    ui.start()
    ui.submit("#service-check", "check")
    plug_in(app, "stick")
    page.locator(f'#drive-list button.drive[value="{stick.id}"]').tap()
    page.wait_for_selector("#stick-certificates")
    ui.wait_step("check")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.matches('.certificate-card')")
    card = page.locator("#stick-certificates .certificate-card").first
    assert card.evaluate("c => getComputedStyle(c).outlineStyle") != "none"
    said = page.evaluate("window.__spoken.at(-1).text")
    assert "사용할 수 있는 인증서입니다" in said and "일" in said and "유효기간" in said


SIZES_ON_THE_GLASS = """() => {
  const box = s => document.querySelector(s).getBoundingClientRect();
  const text = parseFloat(getComputedStyle(document.querySelector('#panel h1')).fontSize)
               * document.querySelector('#panel h1').currentCSSZoom;
  return {text, topbar: box('.topbar').height, startOver: box('#start-over').height,
          picture: box('#usb-picture svg').height};
}"""


def test_large_text_zooms_the_whole_page_pictures_and_bars_included(ui, page):
    """Issue 26, item 15: 큰 글씨 is a whole-page zoom, not only a larger font: the text grows to >= 150 %,
    and the bars, the buttons and the pictures grow with it (measured as painted, in device pixels)."""
    ui.walk_to("password")
    ui.fill_password()
    ui.wait_step("drive")                          # the picture of where the USB port is
    normal = page.evaluate(SIZES_ON_THE_GLASS)
    ui.set_mode("large-text")
    zoomed = page.evaluate(SIZES_ON_THE_GLASS)
    assert zoomed["text"] >= 1.5 * normal["text"]
    for part in ("topbar", "startOver", "picture"):
        assert zoomed[part] >= 1.2 * normal[part], (part, normal[part], zoomed[part])

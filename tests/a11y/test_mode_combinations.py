"""Every combination of the accessibility modes (large text, high contrast, low position, voice: 16), in
both languages, in real Chromium at the kiosk's 1080x1920 (issue 26, items 12 and 13):

- every choice is on the screen without scrolling: no control outside the viewport or cut by a scrolling
  box, and the panel between the bars does not scroll (low position once hid 인증서 복사 below the fold);
- with voice on, a result screen says its result: 내 인증서 확인 says each certificate's status, validity
  and days left, not only its heading.

The modes and the walk go through the kiosk's own routes (POST /accessibility, the step forms) from the
page's browser context, so that each combination costs page loads, not taps; test_screens.py taps every
screen in each single mode. The done screen (a renewal's: the tallest, with the certificate, the renewal
date, the picture of what to do at home and the receipt) and the source step with its password keyboard
open are swept in the same visit, mode combination after mode combination.
"""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.a11y.kiosk_ui import ARTIFACTS, SPEECH_HOOK

pytestmark = pytest.mark.browser

MODES = ("large-text", "high-contrast", "low-position", "speech")
COMBINATIONS = [combo for n in range(len(MODES) + 1) for combo in itertools.combinations(MODES, n)]

# every control a customer may need on this screen, measured where the customer sees it
ALL_VISIBLE = """() => {
  const vh = innerHeight, vw = innerWidth, out = [];
  const shown = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !el.closest('[hidden]'); };
  const name = el => (el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + [...el.classList].join('.'))
    + ' "' + (el.innerText || el.value || '').trim().slice(0, 24) + '"';
  const panel = document.getElementById('panel');
  if (panel && panel.scrollHeight > panel.clientHeight + 1)
    out.push('the panel scrolls (' + panel.scrollHeight + ' > ' + panel.clientHeight + ')');
  if (document.documentElement.scrollHeight > vh + 1) out.push('the page scrolls');
  const controls = 'button, a.button, select, label.check, label.radio-choice, label.certificate-card, ' +
    '.certificate-card[tabindex], input:not([type=hidden]):not([type=checkbox]):not([type=radio])';
  for (const el of document.querySelectorAll(controls)) {
    if (!shown(el) || el.closest('.overlay') || el.closest('#osk-host')) continue;
    if (el.closest('label.certificate-card, label.check, label.radio-choice') &&
        el !== el.closest('label')) continue;
    const r = el.getBoundingClientRect();
    if (r.top < -1 || r.bottom > vh + 1 || r.left < -1 || r.right > vw + 1) {
      out.push(name(el) + ' off the screen at ' + Math.round(r.top) + '..' + Math.round(r.bottom)); continue; }
    for (let a = el.parentElement; a; a = a.parentElement) {
      if (!/(auto|scroll|hidden)/.test(getComputedStyle(a).overflowY)) continue;
      const b = a.getBoundingClientRect();
      if (r.top < b.top - 1 || r.bottom > b.bottom + 1) { out.push(name(el) + ' cut by ' + name(a)); break; }
    }
  }
  return out;
}"""


class Walk:
    """One browser, driven through the kiosk's routes: a fresh visit in a language and modes."""

    def __init__(self, page):
        self.page = page

    def token(self) -> str:
        return self.page.locator("input[name=csrf_token]").first.get_attribute("value")

    def post(self, path: str, form: dict | None = None) -> None:
        response = self.page.request.post(path, form={"csrf_token": self.token(), **(form or {})})
        assert response.status < 500, (path, response.status)

    def fresh(self, lang: str, modes: tuple[str, ...]) -> None:
        """처음으로, then the language and each mode switched on, as the settings bar does."""
        self.page.goto("/")
        self.post("/reset")
        self.page.goto("/")
        self.post("/language", {"lang": lang, "next": "/"})
        for mode in modes:
            self.post("/accessibility", {"mode": mode, "next": "/"})

    def show(self, path: str) -> None:
        self.page.goto(path)
        self.page.wait_for_load_state("networkidle")

    def switch_to(self, modes: tuple[str, ...], here: str) -> None:
        """The modes `modes` and no other, switched one at a time in the same visit (as the settings bar
        does), then `here` shown again."""
        now = set((self.page.locator("html").get_attribute("class") or "").split()) & set(MODES)
        for mode in set(modes) ^ now:
            self.post("/accessibility", {"mode": mode, "next": here})
        self.page.goto(here)
        self.page.wait_for_load_state("load")

    def service(self, lang: str, modes: tuple[str, ...], service: str) -> None:
        self.fresh(lang, modes)
        self.post("/start")
        self.post("/journey/service", {"service": service})


def stick_with_certificates(app, live_server):
    """The kiosk's own certificate and an expired one from elsewhere, on the demo stick, plugged in (the
    card with the most facts, and one with a status that asks for action)."""
    from tests.browser.test_manage_touch import expired_elsewhere, issued_stick, plug_in

    drive = issued_stick(app, live_server)
    expired_elsewhere(app)
    plug_in(app, "stick")
    return drive


def card_facts(page) -> list[str]:
    """What each certificate card on the check screen shows: its status, and validity and days left."""
    return page.evaluate("""() => [...document.querySelectorAll('#stick-certificates .certificate-card')]
        .map(card => card.innerText.replace(/\\s+/g, ' ').trim())""")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_choice_is_visible_and_every_result_spoken_in_every_combination_of_modes(app, live_server,
                                                                                       page, lang):
    drive = stick_with_certificates(app, live_server)
    page.add_init_script(SPEECH_HOOK)
    walk = Walk(page)
    problems: list[str] = []

    def check(combo: tuple[str, ...], screen: str) -> None:
        where = f"{lang} {'+'.join(combo) or 'normal'} {screen}"
        found = page.evaluate(ALL_VISIBLE)
        if found:  # a picture for a person to look at (tests/artifacts is ignored by git)
            folder = ARTIFACTS / "mode-combinations" / lang / ("+".join(combo) or "normal")
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{screen}.png"))
        problems.extend(f"{where}: {problem}" for problem in found)

    for combo in COMBINATIONS:
        walk.fresh(lang, combo)
        check(combo, "attract")
        walk.post("/start")
        walk.show("/journey/service")
        check(combo, "service")
        walk.post("/journey/service", {"service": "new"})
        walk.show("/journey/consent")
        check(combo, "consent")

        walk.service(lang, combo, "check")
        walk.show("/journey/check")
        check(combo, "check")
        walk.post("/journey/check", {"drive_id": drive.id})
        walk.show("/journey/check")
        check(combo, "check-results")
        if "speech" in combo:
            said = page.locator("#screen").get_attribute("data-spoken") or ""
            for facts in card_facts(page):
                status = facts.split(".")[0]
                days = re.search(r"\d+\s*(일|days?)", facts)
                if status not in said or (days and days.group(0) not in said):
                    problems.append(f"{lang} {'+'.join(combo)} check-results: {facts[:60]!r} is not spoken "
                                    f"({said[:160]!r})")
    assert problems == [], "\n".join(problems)


# with a keyboard open: the keys and the field typed into are in sight, not under the keyboard (the other
# certificates come back when 입력 완료 closes it). The certificate it is for sits just above the field,
# shortened to its status and name in low position; in large text + low position its top edge may be
# scrolled under the top bar (seen; not asserted)
TYPING_IN_SIGHT = """() => {
  const vh = innerHeight, vw = innerWidth, out = [];
  const panel = document.getElementById('panel').getBoundingClientRect();
  const name = el => (el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + [...el.classList].join('.'));
  const field = document.activeElement;
  if (!field || field.tagName !== 'INPUT') return ['no field has the focus'];
  for (const el of [field]) {
    const r = el.getBoundingClientRect();
    if (r.top < panel.top - 1 || r.bottom > panel.bottom + 1)
      out.push(name(el) + ' not in sight above the keyboard (' + Math.round(r.top) + '..' + Math.round(r.bottom) +
               ' in ' + Math.round(panel.top) + '..' + Math.round(panel.bottom) + ')');
  }
  const keys = document.querySelectorAll('#osk-host .key');
  if (!keys.length) out.push('no keyboard');
  for (const key of keys) {
    const r = key.getBoundingClientRect();
    if (r.top < -1 || r.bottom > vh + 1 || r.left < -1 || r.right > vw + 1)
      out.push('key "' + key.innerText.trim() + '" off the screen');
  }
  return out;
}"""


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_done_screen_and_the_password_keyboard_fit_in_every_combination_of_modes(app, live_server, page, lang):
    """A renewal walked once in the browser's own visit; its done screen then shown in every combination
    (마치기 was half under the settings bar). The copy's source step with the password keyboard open, in
    every combination: the field and every key in sight."""
    from tests.browser.test_manage_touch import issued_stick, plug_in
    from tests.walker import GOOD_PASSWORD, HONG, identity_form, last_code

    renewable = issued_stick(app, live_server, days_ago=345)
    plug_in(app, "stick")
    walk = Walk(page)
    problems: list[str] = []

    def check(combo: tuple[str, ...], screen: str, probe: str) -> None:
        found = page.evaluate(probe)
        if found:
            folder = ARTIFACTS / "mode-combinations" / lang / ("+".join(combo) or "normal")
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{screen}.png"))
        problems.extend(f"{lang} {'+'.join(combo) or 'normal'} {screen}: {problem}" for problem in found)

    walk.service(lang, (), "renew")
    walk.post("/journey/consent", {"terms": "y", "privacy": "y"})
    walk.post("/journey/identity", identity_form(HONG))
    walk.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})
    walk.post("/journey/email", {"code": last_code(app)})
    walk.post("/journey/source", {"drive_id": renewable.id})
    walk.show("/journey/source")
    folder = page.locator("input[name=folder]").first.get_attribute("value")
    walk.post("/journey/source/certificate", {"folder": folder, "password": GOOD_PASSWORD})
    page.goto("/journey/issuing")
    page.wait_for_selector('#screen[data-step="done"]', timeout=60_000)
    for combo in COMBINATIONS:
        walk.switch_to(combo, "/journey/done")
        assert page.locator('#screen[data-step="done"]').count() == 1, "the visit ended under the sweep"
        check(combo, "done-renewal", ALL_VISIBLE)

    plug_in(app, "stick")  # the renewal ejected it
    for combo in COMBINATIONS:
        walk.service(lang, combo, "copy")
        walk.post("/journey/source", {"drive_id": renewable.id})
        walk.show("/journey/source")
        page.wait_for_load_state("load")  # keyboard.js listens from DOMContentLoaded on
        page.locator("label.certificate-card:has(input[name=folder])").first.tap()
        keyboard = page.locator('#osk-host .osk[data-for="password"]')
        for _ in range(3):  # under load a tap right after the page loaded was seen to land nowhere
            page.locator("#password").tap()
            try:
                keyboard.wait_for(timeout=4000)
                break
            except PlaywrightTimeout:
                pass
        keyboard.wait_for()
        check(combo, "source-keyboard", TYPING_IN_SIGHT)
    assert problems == [], "\n".join(problems)

"""The customer's screens in real Chromium, driven only through the kiosk's own on-screen keyboards.

`KioskUI` taps like a finger (Playwright touch, the kiosk's 1080x1920 screen) and types by tapping the
keys that static/js/keyboard.js draws: no `fill`, no system keyboard. The live server checks CSRF.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

from kiosk.identity.demo import DEMO_CUSTOMERS

HONG = DEMO_CUSTOMERS[0]
GOOD_PASSWORD = "Kiosk!2580x"
HONG_NAME_KEYS = "ㅎㅗㅇㄱㅣㄹㄷㅗㅇ"   # 홍길동 on the 두벌식 keyboard
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"   # ignored by git
AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe-4.14.1.min.js"
# records what the page asks to be said: the kiosk's own voice (POST /speech, kiosk/speech.py) or the
# browser's speechSynthesis where the kiosk has none
SPEECH_HOOK = """
window.__spoken = [];
if (window.speechSynthesis) {
  const speak = window.speechSynthesis.speak.bind(window.speechSynthesis);
  window.speechSynthesis.speak = (u) => {
    window.__spoken.push({text: u.text, lang: u.lang, rate: u.rate, volume: u.volume});
    try { speak(u); } catch (e) {}
  };
}
const kioskFetch = window.fetch.bind(window);
window.fetch = (url, options) => {
  if (options && options.body instanceof URLSearchParams && String(url).endsWith("/speech")) {
    window.__spoken.push({text: options.body.get("text"), lang: options.body.get("lang"),
                          rate: Number(options.body.get("rate")), volume: Number(options.body.get("volume"))});
  }
  return kioskFetch(url, options);
};
"""
LATIN_PAGE = set("1234567890qwertyuiopasdfghjklzxcvbnm")
SYMBOL_PAGE = set("!@#$%^&*()-_=+[]{};:,.?/~<>")


class KioskUI:
    def __init__(self, page, app):
        self.page, self.app = page, app

    # --- where we are ---
    def step(self) -> str:
        return self.page.locator("#screen").get_attribute("data-step")

    def wait_step(self, name: str) -> None:
        """Until the step has settled: htmx moves focus to the heading only after its settle delay, so a
        key pressed before then would be overtaken by that focus move."""
        self.page.wait_for_selector(f'#screen[data-step="{name}"]:not(.htmx-settling):not(.htmx-added)')
        self.page.wait_for_load_state("networkidle")

    def visit(self):
        """The customer's visit on the server for this browser's session (the cookie holds only its id)."""
        sid = next(c["value"] for c in self.page.context.cookies() if c["name"] == "kiosk_sid")
        session = self.app.extensions["kiosk.sessions"].get(sid, touch=False)
        return session.get("visit") if session is not None else None

    # --- touching ---
    def tap(self, selector: str) -> None:
        self.page.locator(selector).tap()

    def submit(self, selector: str, next_step: str) -> None:
        self.tap(selector)
        self.wait_step(next_step)

    def set_language(self, lang: str) -> None:
        if self.page.locator("html").get_attribute("lang") != lang:
            with self.page.expect_navigation():
                self.tap("#lang-toggle")
        assert self.page.locator("html").get_attribute("lang") == lang

    def set_mode(self, mode: str, on: bool = True) -> None:
        toggle = self.page.locator(f"#mode-{mode}")
        if (toggle.get_attribute("aria-pressed") == "true") != on:
            with self.page.expect_navigation():
                toggle.tap()
        assert (mode in (self.page.locator("html").get_attribute("class") or "").split()) == on

    # --- the on-screen keyboards ---
    def keyboard(self):
        return self.page.locator("#osk-host .osk")

    def key(self, value: str):
        return self.page.locator(f'#osk-host button.key[data-value="{value}"]')

    def action(self, name: str, value: str | None = None):
        sel = f'#osk-host button.key[data-action="{name}"]'
        if value:
            sel += f'[data-value="{value}"]'
        return self.page.locator(sel)

    def focus_field(self, selector: str) -> None:
        self.tap(selector)
        field_id = self.page.locator(selector).get_attribute("id")
        self.page.wait_for_selector(f'#osk-host .osk[data-for="{field_id}"]')

    def keyboard_for(self, selector: str) -> None:
        """The field's keyboard: open already when the step opened it, else a tap on the field."""
        field_id = self.page.locator(selector).get_attribute("id")
        if not self.page.locator(f'#osk-host .osk[data-for="{field_id}"]').count():
            self.focus_field(selector)

    def press(self, value: str) -> None:
        self.key(value).tap()

    def type_jamo(self, keys: str) -> None:
        """Hangul keys in 두벌식 order; doubled consonants and ㅒ ㅖ are typed with shift."""
        shifted = {"ㅃ": "ㅂ", "ㅉ": "ㅈ", "ㄸ": "ㄷ", "ㄲ": "ㄱ", "ㅆ": "ㅅ", "ㅒ": "ㅐ", "ㅖ": "ㅔ"}
        for k in keys:
            if k == " ":
                self.action("type", " ").tap()
            elif k in shifted:
                self.action("shift").tap()
                self.press(k)
            else:
                self.press(k)

    def type_latin(self, text: str) -> None:
        """QWERTY: shift for capitals, the symbols page for special characters."""
        for ch in text:
            page = "symbols" if ch in SYMBOL_PAGE else "latin"
            current = self.page.locator("#osk-host .osk").get_attribute("class")
            if f"osk-page-{page}" not in current:
                self.action("page", page).tap()
            if ch.isupper():
                self.action("shift").tap()
            assert ch in LATIN_PAGE | SYMBOL_PAGE or ch.isupper(), ch
            self.press(ch)

    def type_digits(self, digits: str) -> None:
        for d in digits:
            self.press(d)

    def done(self) -> None:
        self.action("done").tap()

    def value(self, selector: str) -> str:
        return self.page.locator(selector).input_value()

    # --- the demo journey, typed on the screen only ---
    def start(self) -> None:
        if urlparse(self.page.url).path != "/":
            self.page.goto("/")
        self.submit("#start", "service")

    def to_consent(self):
        self.submit("#service-new", "consent")

    def to_identity(self):
        """Consent, then the identity step; without a camera (this Chromium has none) the page asks for
        the keyboard form by itself."""
        self.tap("#terms")
        self.tap("#privacy")
        self.submit("#consent-next", "identity")
        self.page.wait_for_selector("#identity-form")
        self.wait_step("identity")

    def fill_identity(self):
        """The keyboard form: the name's keyboard is open as the form appears, each part of the resident
        number moves on by itself when complete, and the issue date's last digit sends the form."""
        self.page.wait_for_selector('#osk-host .osk[data-for="name"]')
        self.type_jamo(HONG_NAME_KEYS)
        self.done()                                   # 입력 완료 moves on to the next field
        front, back = HONG.rrn.split("-")
        self.page.wait_for_selector('#osk-host .osk[data-for="rrn_front"]')
        self.type_digits(front)
        self.page.wait_for_selector('#osk-host .osk[data-for="rrn_back"]')
        self.type_digits(back)
        self.tap("label:has(#id_kind-resident_card)")
        self.focus_field("#issue_date")
        self.type_digits(HONG.id_issue_date.replace("-", ""))

    def to_account(self):
        self.fill_identity()
        self.wait_step("account")

    def fill_account(self, pin: str = HONG.pin):
        """The account from the directory's list (one tap), or typed where the directory gives none;
        then the PIN, which sends the form with its fourth digit."""
        if self.page.locator("#account-list").count():
            digits = re.sub(r"[^0-9]", "", HONG.account)
            card = self.page.locator(f'label.account-card:has-text("{digits[:6]}-"):has-text("{digits[-4:]}")')
            if not card.locator("input").is_checked():
                card.tap()
        else:
            self.keyboard_for("#account")
            self.type_digits(re.sub(r"\D", "", HONG.account))
            self.done()
        self.page.wait_for_selector('#osk-host .osk[data-for="pin"]')
        self.type_digits(pin)

    def to_email(self):
        self.fill_account()
        self.wait_step("email")

    def last_code(self) -> str:
        body = self.app.extensions["kiosk"].code_sender.recent(1)[0]["body"]
        return re.search(r"\b(\d{6})\b", body).group(1)

    def to_password(self):
        """The code's keypad is open as the step appears; its sixth digit sends it."""
        self.page.wait_for_selector('#osk-host .osk[data-for="code"]')
        self.type_digits(self.last_code())
        self.wait_step("password")

    def fill_password(self, password: str = GOOD_PASSWORD):
        """The password's keyboard is open as the step appears; 입력 완료 moves to the confirmation, which
        sends the form as soon as it is the same password."""
        self.keyboard_for("#password")
        self.type_latin(password)
        self.done()
        self.page.wait_for_selector('#osk-host .osk[data-for="confirm"]')
        self.type_latin(password)

    def walk_to(self, step: str) -> None:
        """From the attract screen to `step` of a new issuance, all typed on the screen keyboards."""
        order = ["service", "consent", "identity", "account", "email", "password"]
        actions = {"service": self.start, "consent": self.to_consent, "identity": self.to_identity,
                   "account": self.to_account, "email": self.to_email, "password": self.to_password}
        for name in order[: order.index(step) + 1]:
            actions[name]()

    # --- axe-core, injected through the DevTools protocol (the page's CSP forbids inline scripts) ---
    def axe(self, extra_rules: tuple[str, ...] = ()) -> list[dict]:
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text(encoding="utf-8"))
        rules = {rule: {"enabled": True} for rule in extra_rules}
        result = self.page.evaluate(
            """async (rules) => {
                 const r = await axe.run(document, {rules, resultTypes: ['violations']});
                 return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary).slice(0, 5)}));
               }""",
            rules,
        )
        return result

"""The identity step by camera (issue 25) in headless Chromium with a fake camera that plays a drawn card
(`--use-file-for-fake-video-capture`, tests/idcard/cards.py): the card is read by itself once steady,
confirmed with one tap, and the journey goes on, every tap counted; a refused camera and a picture that
is no card end on the keyboard form or a polite message.

Taps are counted in the page (every pointerdown a finger makes, through an exposed function, so that they
survive page loads) and sorted: a key typed into a secret (the PIN, the e-mail code, the certificate
password: the characters, shift and the symbols page) or anything else (a button, a card, 입력 완료).
The aim (issue 25): a new issuance in at most 50 taps with an 11-character password, at most 12 of
them not secrets.
"""

from __future__ import annotations

import pytest

from hardware.demo import insert_demo_drive
from kiosk.idcard.specimen import demo_faces
from kiosk.pki.verify import verify_bundle
from tests.a11y.kiosk_ui import GOOD_PASSWORD, HONG, KioskUI
from tests.conftest import CHROMIUM, KIOSK_SCREEN
from tests.idcard.cards import Distortion, capture, fake_camera_mjpeg, not_a_card
from tests.tools import require_command

pytestmark = pytest.mark.browser

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
# what a tap touched, sorted in the page: a key typed into a secret field, or anything else
COUNT_TAPS = """
document.addEventListener("pointerdown", (e) => {
  const key = e.target.closest && e.target.closest("#osk-host .key");
  const input = window.kioskKeyboard && window.kioskKeyboard.state.input;
  const secretField = input && (input.type === "password" || input.dataset.keyboard === "secure-numeric"
                                || input.autocomplete === "one-time-code");
  const typing = key && key.dataset.action !== "done";
  window.__tap(typing && secretField ? "secret" : "other",
               (e.target.closest("[id]") || e.target).id + (key ? ":" + (key.dataset.value || key.dataset.action) : ""));
}, true);
"""


def launch(browser_type, camera_file=None, grant=True):
    """Another Chromium, with a fake camera playing `camera_file` (granted without a prompt, or refused)."""
    require_command("chromium", "chromium")
    args = list(ARGS)
    if camera_file is not None:
        args += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera_file}"]
        if grant:
            args.append("--use-fake-ui-for-media-stream")
    return browser_type.launch(executable_path=CHROMIUM, args=args)


@pytest.fixture(scope="module")
def playwright_instance(chromium):
    """The test session's Playwright (one per process), to launch browsers with a camera."""
    return chromium.browser_type


@pytest.fixture(scope="module")
def hong_camera(playwright_instance, tmp_path_factory):
    """Chromium whose camera shows 홍길동's 주민등록증, held a little turned."""
    face = next(f for f in demo_faces() if f.name == HONG.name)
    path = fake_camera_mjpeg(capture(face, Distortion(rotation=2.0, seed=3)),
                             tmp_path_factory.mktemp("camera") / "card.mjpeg")
    browser = launch(playwright_instance, path)
    yield browser
    browser.close()


class Counted(KioskUI):
    def __init__(self, page, app):
        super().__init__(page, app)
        self.taps: list[tuple[str, str]] = []
        page.expose_function("__tap", lambda kind, what: self.taps.append((kind, what)))
        page.add_init_script(COUNT_TAPS)

    def count(self, kind: str | None = None) -> int:
        return len([t for t in self.taps if kind is None or t[0] == kind])

    def identity_by_camera(self) -> None:
        """The card is read by itself; the confirm screen shows it; 맞습니다."""
        self.page.wait_for_selector("#confirm-form", timeout=30_000)
        assert self.value("#name") == HONG.name
        assert self.value("#rrn_front") == HONG.rrn[:6]
        assert self.value("#rrn_back") == ""                                  # never sent to the page
        assert self.page.locator("#rrn_back").get_attribute("placeholder") == HONG.rrn[7] + "******"
        assert HONG.rrn.replace("-", "")[6:] not in self.page.content()
        self.submit("#confirm-next", "account")


def page_on(browser, live_server):
    context = browser.new_context(viewport=KIOSK_SCREEN, has_touch=True, locale="ko-KR", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def test_a_new_certificate_by_camera_within_the_tap_budget(hong_camera, live_server, app):
    data_dir = app.extensions["kiosk"].settings.data_dir
    drive = insert_demo_drive(data_dir, "stick", label="MYUSB")
    context, page = page_on(hong_camera, live_server)
    ui = Counted(page, app)
    page.goto("/")
    ui.start()
    ui.to_consent()
    ui.tap("#terms")
    ui.tap("#privacy")
    ui.submit("#consent-next", "identity")
    ui.identity_by_camera()
    ui.fill_account()                     # the account from the list, then its PIN
    ui.wait_step("email")
    ui.to_password()
    ui.fill_password()
    ui.wait_step("drive")
    ui.tap(f'#drive-list button.drive[value="{drive.id}"]')
    page.wait_for_selector('#screen[data-step="done"]', timeout=60_000)
    total, other = ui.count(), ui.count("other")
    context.close()

    assert len(GOOD_PASSWORD) == 11
    assert total <= 50 and other <= 12, ui.taps
    root = data_dir / "demo-drives" / "stick" / "root"
    key = next(root.rglob("signPri.key"))
    check = verify_bundle((key.parent / "signCert.der").read_bytes(), key.read_bytes(), GOOD_PASSWORD,
                          idn=HONG.rrn.replace("-", ""))
    assert check.real_name == HONG.name
    print(f"\nnew issuance by camera: {total} taps, {other} not secrets")


def test_a_refused_camera_leads_to_the_keyboard_form(playwright_instance, live_server, app, tmp_path, caplog):
    face = next(f for f in demo_faces() if f.name == HONG.name)
    browser = launch(playwright_instance, fake_camera_mjpeg(capture(face), tmp_path / "card.mjpeg"), grant=False)
    try:
        context, page = page_on(browser, live_server)
        ui = KioskUI(page, app)
        page.goto("/")
        ui.start()
        ui.to_consent()
        ui.to_identity()                  # the keyboard form, by itself
        assert page.locator("#camera").count() == 0
        assert "identity.keyboard reason=refused" in caplog.text
        ui.to_account()                   # and it is complete
        context.close()
    finally:
        browser.close()


def test_no_camera_leads_to_the_keyboard_form(page, app, caplog):
    ui = KioskUI(page, app)
    ui.walk_to("identity")
    assert page.locator("#camera").count() == 0 and page.locator("#identity-form").count() == 1
    assert "identity.keyboard reason=no_camera" in caplog.text


def test_a_picture_that_is_no_card_is_answered_politely_and_the_keyboard_offered(playwright_instance, live_server,
                                                                                  app, tmp_path):
    browser = launch(playwright_instance, fake_camera_mjpeg(not_a_card(), tmp_path / "nothing.mjpeg"))
    try:
        context, page = page_on(browser, live_server)
        ui = KioskUI(page, app)
        page.goto("/")
        ui.start()
        ui.to_consent()
        ui.tap("#terms")
        ui.tap("#privacy")
        ui.submit("#consent-next", "identity")
        page.wait_for_selector("#camera-shoot:not([disabled])")
        ui.tap("#camera-shoot")
        page.wait_for_selector("#card-problem")
        assert "직접 입력" in page.locator("#card-problem").inner_text()
        assert page.locator("#identity-keyboard").is_visible()
        ui.tap("#identity-keyboard")
        page.wait_for_selector("#identity-form")
        assert ui.visit().reading is None
        context.close()
    finally:
        browser.close()


def test_a_renewal_by_camera_and_a_password_change_counted(hong_camera, live_server, app):
    """갱신 with the card shown to the camera, then 비밀번호 변경 of the renewed certificate: the taps
    of each (docs/performance.md), and each reaches its done screen."""
    from tests.browser.test_manage_touch import issued_stick, plug_in
    from tests.journey.test_manage import NEW_PASSWORD

    drive = issued_stick(app, live_server, days_ago=345)
    context, page = page_on(hong_camera, live_server)
    ui = Counted(page, app)
    page.goto("/")
    ui.start()
    ui.submit("#service-renew", "consent")
    ui.tap("#terms")
    ui.tap("#privacy")
    ui.submit("#consent-next", "identity")
    ui.identity_by_camera()
    ui.fill_account()
    ui.wait_step("email")
    page.wait_for_selector('#osk-host .osk[data-for="code"]')
    ui.type_digits(ui.last_code())
    ui.wait_step("source")
    plug_in(app, "stick")
    ui.tap(f'#drive-list button.drive[value="{drive.id}"]')
    page.wait_for_selector('#osk-host .osk[data-for="password"]')      # one certificate: chosen, keyboard open
    ui.type_latin(GOOD_PASSWORD)
    ui.done()                                                           # the last field: sent
    page.wait_for_selector('#screen[data-step="done"]', timeout=60_000)
    renewal, renewal_other = ui.count(), ui.count("other")

    ui.taps.clear()
    ui.tap("#finish")
    page.wait_for_selector("#start")
    plug_in(app, "stick")
    ui.start()
    ui.submit("#service-change-password", "source")
    ui.tap(f'#drive-list button.drive[value="{drive.id}"]')
    page.wait_for_selector('#osk-host .osk[data-for="password"]')
    ui.type_latin(GOOD_PASSWORD)
    ui.done()
    ui.wait_step("password")
    ui.fill_password(NEW_PASSWORD)
    page.wait_for_selector('#screen[data-step="done"]', timeout=60_000)
    change, change_other = ui.count() - 1, ui.count("other") - 1          # 마치기 belongs to the renewal
    context.close()
    print(f"\nrenewal by camera: {renewal} taps, {renewal_other} not secrets; "
          f"password change ({len(NEW_PASSWORD)} characters): {change} taps, {change_other} not secrets")
    assert renewal <= 40 and renewal_other <= 10, ui.taps
    assert change_other <= 5

"""공동인증서 관리 by touch in headless Chromium, in Korean and in English: renewal (갱신), a password
change (비밀번호 변경), a copy to a second stick (인증서 복사), and deleting an expired certificate from
the check screen after a confirmation. The sticks are plugged in while the screen is open (the drive list
arrives over SSE), and each walk ends by reading the demo stick as the customer's banking software would.

The certificate to manage is one the kiosk really issued, walked over HTTP beforehand (tests.http_customer)
and backdated through the embedded CA's clock where it must be renewable; the stick is then out of the
kiosk (ejected after the write) until the walk plugs it in again.
"""

from __future__ import annotations

import re

import pytest
from cryptography import x509

from hardware.demo import insert_demo_drive
from kiosk.pki.errors import WrongPassword
from kiosk.pki.keyfile import decrypt_private_key
from kiosk.pki.verify import verify_bundle
from tests.a11y.kiosk_ui import KioskUI
from tests.http_customer import Customer, insert_drive, issue_backdated
from tests.journey.test_manage import (
    NEW_PASSWORD,
    certificate_folders,
    expired_and_current,
    files_of,
    foreign_certificates,
    stick_root,
)
from tests.waiting import wait_for
from tests.walker import GOOD_PASSWORD, HONG

pytestmark = pytest.mark.browser

LANGS = ("ko", "en")
# what the customer reads, in the language they chose (a Korean text on the English screen is a gap in
# kiosk/translations/en)
SAYS = {
    "ko": {"renewed": "인증서 갱신이 끝났습니다", "changed": "인증서 비밀번호를 바꿨습니다",
           "copied": "인증서를 복사했습니다", "wrong_password": "남은 횟수: 4회",
           "same_stick": "복사해 넣을 다른 USB", "delete_question": "지운 인증서는 되살릴 수 없습니다",
           "deleted": "인증서를 USB에서 지웠습니다.", "expired": "기간이 끝난 인증서입니다",
           "safe_to_remove": "USB를 빼셔도 됩니다"},
    "en": {"renewed": "Your certificate is renewed", "changed": "The certificate password is changed",
           "copied": "The certificate is copied", "wrong_password": "Tries left: 4",
           "same_stick": "Please plug in another USB drive to copy to",
           "delete_question": "A deleted certificate cannot be brought back",
           "deleted": "The certificate was deleted from the USB drive.", "expired": "This certificate has expired",
           "safe_to_remove": "You can now remove your USB drive"},
}
HANGUL = re.compile(r"[\uac00-\ud7a3]")


# --- the certificate to manage, issued beforehand over HTTP -------------------------------------------

def issued_stick(app, live_server, name: str = "stick", days_ago: int = 0):
    """A certificate the kiosk issued onto the demo stick `name` (backdated by `days_ago`); the kiosk
    ejected the stick after writing, so it is out until the walk plugs it in again."""
    drive = insert_drive(app, name)
    issue_backdated(app, Customer(live_server.url), drive.id, days_ago)
    wait_for(lambda: all(d.id != drive.id for d in app.extensions["kiosk"].drives.drives()),
             "the ejected stick leaves the kiosk's drive list")
    return drive


def expired_elsewhere(app, name: str = "stick"):
    """An expired certificate from another CA, with its key, in the stick's NPKI folder; returns its folder."""
    return foreign_certificates(stick_root(app, name), {"cn=expired": -3}) / "cn=expired"


def plug_in(app, name: str, label: str = "MYUSB"):
    """The customer plugs the stick `name` in again, its files as they were."""
    return insert_demo_drive(app.extensions["kiosk"].settings.data_dir, name, label=label)


# --- touching ---------------------------------------------------------------------------------------

class Touch(KioskUI):
    """KioskUI's taps and on-screen keys, plus the steps of 공동인증서 관리."""

    def begin(self, lang: str, service_button: str, next_step: str) -> None:
        self.page.goto("/")
        self.set_language(lang)
        self.start()
        self.submit(service_button, next_step)

    def type_text(self, selector: str, text: str) -> None:
        """Quick typing where the keyboard is not what the test is about: the field opens its keyboard."""
        self.focus_field(selector)
        self.page.locator(selector).fill(text)

    def prove_identity(self, next_step: str = "source") -> None:
        self.to_identity()
        front, back = HONG.rrn.split("-")
        self.type_text("#name", HONG.name)
        self.type_text("#rrn_front", front)
        self.type_text("#rrn_back", back)
        self.tap("label:has(#id_kind-resident_card)")
        self.type_text("#issue_date", HONG.id_issue_date.replace("-", ""))
        self.submit("#identity-next", "account")
        self.fill_account()                        # the account from the list; the PIN's 4th digit sends it
        self.wait_step("email")
        self.type_text("#code", self.last_code())
        self.submit("#code-next", next_step)

    def pick_stick(self, drive) -> None:
        """Tap the stick once it is on the screen's live list."""
        button = self.page.locator(f'#drive-list button.drive[value="{drive.id}"]')
        button.wait_for(timeout=10_000)
        button.tap()

    def open_certificate(self, drive, password: str) -> None:
        """On the source step: the stick, then its one certificate card, then its current password typed
        key by key on the on-screen keyboard."""
        self.pick_stick(drive)
        card = self.page.locator("label.certificate-card:has(input[name=folder])")
        card.wait_for()
        assert card.count() == 1
        card.tap()
        assert self.page.locator("input[name=folder]").is_checked()
        self.focus_field("#password")
        self.type_latin(password)
        self.done()                               # the last field: 입력 완료 sends the form

    def wait_done(self) -> None:
        self.page.wait_for_selector('#screen[data-step="done"]', timeout=60_000)

    def heading(self) -> str:
        return self.page.locator("#panel h1").inner_text()

    def panel(self) -> str:
        return self.page.locator("#panel").inner_text()


@pytest.fixture
def touch(page, app):
    return Touch(page, app)


def assert_in_language(touch: Touch, lang: str) -> None:
    """The English screen shows no Korean in its heading (the certificate's own name aside)."""
    assert touch.page.locator("html").get_attribute("lang") == lang
    if lang == "en":
        assert not HANGUL.search(touch.heading()), touch.heading()


# --- the walks ------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_a_certificate_in_its_last_month_is_renewed_by_touch(touch, app, live_server, lang):
    drive = issued_stick(app, live_server, days_ago=345)
    [old_folder] = certificate_folders(stick_root(app))
    old = x509.load_der_x509_certificate((old_folder / "signCert.der").read_bytes())

    touch.begin(lang, "#service-renew", "consent")
    touch.prove_identity()
    assert_in_language(touch, lang)
    plug_in(app, "stick")                         # while the screen is open: the list updates over SSE
    touch.open_certificate(drive, GOOD_PASSWORD)
    touch.wait_done()                             # the kiosk wrote to the same stick by itself
    assert touch.heading() == SAYS[lang]["renewed"]
    assert SAYS[lang]["safe_to_remove"] in touch.panel()

    [new_folder] = certificate_folders(stick_root(app))
    new_der = (new_folder / "signCert.der").read_bytes()
    check = verify_bundle(new_der, (new_folder / "signPri.key").read_bytes(), GOOD_PASSWORD,
                          idn=HONG.rrn.replace("-", ""), chain_pem=app.extensions["kiosk"].issuance.ca.chain_pem())
    assert check.real_name == HONG.name and check.serial != old.serial_number
    assert x509.load_der_x509_certificate(new_der).not_valid_after_utc > old.not_valid_after_utc
    crl = x509.load_der_x509_crl(app.extensions["kiosk"].issuance.crl_der())
    assert crl.get_revoked_certificate_by_serial_number(old.serial_number) is not None


@pytest.mark.parametrize("lang", LANGS)
def test_the_password_is_changed_by_touch_and_the_old_one_no_longer_opens_the_key(touch, app, live_server, lang):
    drive = issued_stick(app, live_server)
    [folder] = certificate_folders(stick_root(app))
    certificate = (folder / "signCert.der").read_bytes()

    touch.begin(lang, "#service-change-password", "source")
    assert_in_language(touch, lang)
    plug_in(app, "stick")
    touch.open_certificate(drive, "Wrong!pass99")
    message = touch.page.locator("#source-message")
    message.wait_for()
    assert SAYS[lang]["wrong_password"] in message.inner_text()
    assert touch.panel().count(SAYS[lang]["wrong_password"]) == 1             # said once, not twice
    assert touch.page.locator("input[name=folder]").is_checked()      # the choice stays, the password not
    assert touch.value("#password") == ""
    assert touch.page.locator("#password").get_attribute("aria-describedby") == "source-message"
    touch.focus_field("#password")
    touch.type_latin(GOOD_PASSWORD)
    touch.done()
    touch.wait_step("password")
    assert_in_language(touch, lang)
    touch.type_text("#password", NEW_PASSWORD)
    touch.page.locator('[data-rule="sequence"].met').wait_for()
    touch.type_text("#confirm", NEW_PASSWORD)
    touch.tap("#password-next")
    touch.wait_done()
    assert touch.heading() == SAYS[lang]["changed"]

    assert certificate_folders(stick_root(app)) == [folder]
    assert (folder / "signCert.der").read_bytes() == certificate
    key_file = (folder / "signPri.key").read_bytes()
    verify_bundle(certificate, key_file, NEW_PASSWORD, idn=HONG.rrn.replace("-", ""))
    with pytest.raises(WrongPassword):
        decrypt_private_key(key_file, GOOD_PASSWORD)


@pytest.mark.parametrize("lang", LANGS)
def test_a_certificate_is_copied_by_touch_to_a_second_stick_plugged_in_meanwhile(touch, app, live_server, lang):
    source = issued_stick(app, live_server)
    original = files_of(stick_root(app))

    touch.begin(lang, "#service-copy", "source")
    assert touch.page.locator("#drive-list button.drive").count() == 0
    plug_in(app, "stick")                                    # the first stick, over SSE
    touch.open_certificate(source, GOOD_PASSWORD)
    touch.wait_step("drive")
    assert_in_language(touch, lang)
    touch.pick_stick(source)                                 # the same stick is refused, and told so
    refusal = touch.page.locator("#panel [role=alert]")
    refusal.wait_for(timeout=10_000)
    assert SAYS[lang]["same_stick"] in refusal.inner_text()
    assert touch.page.locator(".drive-live[sse-connect]").count() == 1
    second = plug_in(app, "second", label="SPARE")           # the second stick, over SSE
    touch.pick_stick(second)
    touch.wait_done()
    assert touch.heading() == SAYS[lang]["copied"]

    assert files_of(stick_root(app, "second")) == original   # byte for byte, the same folder names
    assert files_of(stick_root(app)) == original


@pytest.mark.parametrize("lang", LANGS)
def test_an_expired_certificate_is_deleted_by_touch_after_a_confirmation(touch, app, lang):
    user = expired_and_current(stick_root(app))

    touch.begin(lang, "#service-check", "check")
    drive = plug_in(app, "stick")
    touch.pick_stick(drive)
    touch.page.wait_for_selector("#stick-certificates")
    assert_in_language(touch, lang)
    delete = touch.page.locator("#stick-certificates button.delete")
    assert delete.count() == 1                                         # only the expired one
    delete.tap()
    touch.page.wait_for_selector("#delete-question")
    assert SAYS[lang]["delete_question"] in touch.panel()
    touch.tap("#delete-no")                                            # second thoughts: nothing happens
    touch.page.wait_for_selector("#delete-question", state="detached")
    assert (user / "cn=expired" / "signCert.der").exists()
    touch.page.locator("#stick-certificates button.delete").tap()
    touch.page.wait_for_selector("#delete-question")
    touch.tap("#delete-yes")
    touch.page.wait_for_selector("#deleted")
    assert SAYS[lang]["deleted"] in touch.panel()
    assert SAYS[lang]["expired"] not in touch.panel()                  # the list is read again

    assert not (user / "cn=expired").exists()
    assert sorted(p.name for p in (user / "cn=current").iterdir()) == ["signCert.der", "signPri.key"]

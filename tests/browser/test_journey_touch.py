"""The whole journey in headless Chromium with touch input, as a customer would, ending with a bundle
on a demo drive that the kiosk's own verifier opens; the drive list arrives over SSE."""

import re

import pytest

from hardware.demo import insert_demo_drive
from kiosk.pki.verify import verify_bundle
from tests.walker import GOOD_PASSWORD, HONG

pytestmark = pytest.mark.browser


def tap(page, selector):
    page.locator(selector).tap()


def type_into(page, selector, text):
    field = page.locator(selector)
    field.tap()
    field.fill(text)


def test_a_customer_gets_a_certificate_by_touch(page, app):
    page.goto("/")
    tap(page, "#start")
    page.wait_for_url("**/journey/service")
    tap(page, "#service-new")
    page.wait_for_url("**/journey/consent")
    tap(page, "#terms")
    tap(page, "#privacy")
    tap(page, "#consent-next")
    page.wait_for_url("**/journey/identity")
    page.wait_for_selector("#identity-form")                   # no camera here: the keyboard form
    type_into(page, "#name", HONG.name)
    front, back = HONG.rrn.split("-")
    type_into(page, "#rrn_front", front)
    type_into(page, "#rrn_back", back)
    type_into(page, "#issue_date", HONG.id_issue_date.replace("-", ""))
    tap(page, "#identity-next")
    page.wait_for_url("**/journey/account")
    tap(page, 'label.account-card:has-text("4567")')           # the directory lists his two accounts
    type_into(page, "#pin", HONG.pin)
    tap(page, "#account-next")
    page.wait_for_url("**/journey/email")
    assert "h***@example.com" in page.inner_text("#panel")
    body = app.extensions["kiosk"].code_sender.recent(1)[0]["body"]
    type_into(page, "#code", re.search(r"\b(\d{6})\b", body).group(1))
    tap(page, "#code-next")
    page.wait_for_url("**/journey/password")
    type_into(page, "#password", GOOD_PASSWORD)
    page.locator('[data-rule="sequence"].met').wait_for()
    type_into(page, "#confirm", GOOD_PASSWORD)
    tap(page, "#password-next")
    page.wait_for_url("**/journey/drive")
    assert page.locator("button.drive").count() == 0

    # the customer plugs a write-protected stick in, then a good one: the list updates by itself over
    # one SSE stream that stays open from event to event, no reload
    data_dir = app.extensions["kiosk"].settings.data_dir
    locked = insert_demo_drive(data_dir, "locked", label="LOCKED", read_only=True)
    page.locator(f'button.drive-unusable:has-text("{locked.label}")').wait_for(timeout=5000)
    assert page.locator(".drive-live[sse-connect]").count() == 1
    drive = insert_demo_drive(data_dir, "stick", label="MYUSB")
    drive_button = page.locator(f'button.drive[value="{drive.id}"]')
    drive_button.wait_for(timeout=5000)
    drive_button.tap()
    page.wait_for_url("**/journey/done", timeout=30_000)
    assert "USB를 빼셔도 됩니다" in page.inner_text("#panel")

    root = app.extensions["kiosk"].settings.data_dir / "demo-drives" / "stick" / "root"
    key = next(root.rglob("signPri.key"))
    assert key.parent.name.startswith("cn=홍길동(HONG GILDONG)")
    check = verify_bundle((key.parent / "signCert.der").read_bytes(), key.read_bytes(), GOOD_PASSWORD,
                          idn=HONG.rrn.replace("-", ""))
    assert check.vid_matches and check.real_name == HONG.name

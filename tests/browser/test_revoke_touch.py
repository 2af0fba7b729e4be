"""인증서 폐지 by touch in headless Chromium, in Korean and in English: the customer who lost the stick
proves who they are, picks the certificate from the kiosk's list (no stick), confirms, and reads on the
done screen that it is on the CA's revocation list; the CRL, read as the bank reads it, lists it."""

from __future__ import annotations

import pytest
from cryptography import x509

from tests.browser.test_manage_touch import (
    HANGUL,
    LANGS,
    Touch,
    certificate_folders,
    issued_stick,
    stick_root,
)

pytestmark = pytest.mark.browser

SAYS = {
    "ko": {"question": "되돌릴 수 없습니다", "revoked": "인증서를 폐지했습니다", "on_crl": "인증서 폐지 목록(CRL 번호"},
    "en": {"question": "this cannot be undone", "revoked": "The certificate is revoked",
           "on_crl": "is on the certificate revocation list issued"},
}


@pytest.fixture
def touch(page, app):
    return Touch(page, app)


@pytest.mark.parametrize("lang", LANGS)
def test_a_lost_certificate_is_revoked_by_touch(touch, app, live_server, lang):
    issued_stick(app, live_server)                  # then ejected: the customer comes without it
    [folder] = certificate_folders(stick_root(app))
    serial = x509.load_der_x509_certificate((folder / "signCert.der").read_bytes()).serial_number

    touch.begin(lang, "#service-revoke", "consent")
    touch.prove_identity(next_step="revoke")
    choices = touch.page.locator("#panel button.choice[name=serial]")
    assert choices.count() == 1
    choices.first.tap()
    touch.page.wait_for_selector("#revoke-question")
    assert SAYS[lang]["question"] in touch.page.locator("#revoke-question").inner_text()
    touch.tap("#revoke-yes")
    touch.wait_done()
    assert touch.heading() == SAYS[lang]["revoked"]
    assert SAYS[lang]["on_crl"] in touch.page.locator("#revoked-line").inner_text()
    if lang == "en":
        assert not HANGUL.search(touch.page.locator("#revoked-line").inner_text())
    crl = x509.load_der_x509_crl(app.extensions["kiosk"].issuance.crl_der())
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None

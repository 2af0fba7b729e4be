"""Hostile and foreign sticks as an outside probe crafted them (issue 26, items 4, 5, 7, 8), over real HTTP
on demo sticks: folder names that are not UTF-8, Hangul names in NFD (what a Mac writes), a FIFO swapped
in for a certificate file, and two sessions changing one certificate's password."""

from __future__ import annotations

import os
import re
import unicodedata
import urllib.error
import urllib.parse

import pytest

from kiosk.pki.errors import WrongPassword
from kiosk.pki.keyfile import decrypt_private_key
from tests.http_customer import Customer, insert_drive, wait_for_issuing
from tests.journey.test_manage import (
    NEW_PASSWORD,
    certificate_folders,
    foreign_certificates,
    issue_certificate,
    pick_certificate,
    start,
    stick_root,
)
from tests.walker import GOOD_PASSWORD

NOT_UTF8 = (b"\xff\xfecn=broken", b"cn=\xed\xa0\x80surrogate")  # invalid UTF-8; a surrogate's UTF-8 bytes


def nfd(name: str) -> str:
    return unicodedata.normalize("NFD", name)


def with_undecodable_folders(root) -> None:
    """A current certificate of another CA, and two folders whose names no page can carry."""
    user = foreign_certificates(root, {"cn=current": 200})
    for name in NOT_UTF8:
        folder = os.path.join(os.fsencode(user), name)
        os.mkdir(folder)
        for file_name in (b"signCert.der", b"signPri.key"):
            with open(os.path.join(folder, file_name), "wb") as file:
                file.write((user / "cn=current" / os.fsdecode(file_name)).read_bytes())


@pytest.mark.parametrize("service", ["copy", "change_password", "check"])
def test_folder_names_that_are_not_utf8_are_listed_escaped_and_never_a_500(app, live_server, service):
    drive = insert_drive(app)
    with_undecodable_folders(stick_root(app))
    customer = Customer(live_server.url)
    start(customer, service)
    customer.post(f"/journey/{'check' if service == 'check' else 'source'}", {"drive_id": drive.id})
    assert customer.status == 200, customer.status
    assert customer.page.count('value="NPKI/yessign/USER/cn=current"') == (service != "check")
    if service == "check":  # the check screen says why the two cannot be opened
        assert customer.page.count("폴더 이름을 읽을 수 없어") == 2


def test_the_error_pages_start_over_ends_the_visit(app, live_server):
    customer = Customer(live_server.url)
    start(customer, "copy")
    try:
        customer.get("/journey/no-such-step")
    except urllib.error.HTTPError as error:
        customer._read(error)
    assert customer.status == 404
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>\s*<input type="hidden" name="csrf_token" '
                     r'value="([^"]*)">\s*<button class="button primary" id="error-start-over">', customer.page)
    if form:  # the button a customer taps: a POST
        customer.post(form.group(1))
    else:  # before issue 26: a link to /, which sent the customer back to the step that failed
        customer.get(re.search(r'<a class="button primary" href="([^"]+)">처음으로', customer.page).group(1))
    customer.get("/")
    assert not customer.url.split("?")[0].endswith("/journey/source"), customer.url
    assert 'action="/start"' in customer.page  # the attract screen


def in_nfd(app) -> str:
    """The kiosk's certificate on the stick, its folder renamed to NFD as a Mac would write it."""
    [folder] = certificate_folders(stick_root(app))
    decomposed = folder.with_name(nfd(folder.name))
    assert decomposed != folder
    folder.rename(decomposed)
    return decomposed


def test_a_certificate_in_an_nfd_folder_gets_its_password_changed_in_that_folder(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive)
    folder = in_nfd(app)

    start(customer, "change_password")
    customer.post("/journey/source", {"drive_id": drive.id})
    pick_certificate(customer, GOOD_PASSWORD)
    assert customer.url.endswith("/journey/password"), customer.page[-800:]
    customer.post("/journey/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    if customer.url.endswith("/journey/issuing"):
        wait_for_issuing(customer)
    assert "인증서 비밀번호를 바꿨습니다" in customer.page
    assert certificate_folders(stick_root(app)) == [folder]  # the stick's own spelling, nothing beside it
    decrypt_private_key((folder / "signPri.key").read_bytes(), NEW_PASSWORD)


def test_an_expired_certificate_in_an_nfd_folder_can_be_deleted(app, live_server):
    drive = insert_drive(app)
    name = nfd("cn=김만료()0011")
    user = foreign_certificates(stick_root(app), {name: -3})
    customer = Customer(live_server.url)
    start(customer, "check")
    customer.post("/journey/check", {"drive_id": drive.id})
    folder = f"NPKI/yessign/USER/{name}"
    customer.post("/journey/check/delete", {"folder": folder})
    assert 'id="delete-question"' in customer.page
    customer.post("/journey/check/delete", {"folder": folder, "confirm": "yes"})
    assert 'id="deleted"' in customer.page and not (user / name).exists()


def test_a_fifo_swapped_in_before_a_confirmed_delete_does_not_hang_the_request(app, live_server):
    drive = insert_drive(app)
    user = foreign_certificates(stick_root(app), {"cn=expired": -3})
    customer = Customer(live_server.url)
    start(customer, "check")
    customer.post("/journey/check", {"drive_id": drive.id})
    customer.post("/journey/check/delete", {"folder": "NPKI/yessign/USER/cn=expired"})
    fifo = user / "cn=expired" / "signCert.der"
    fifo.unlink()
    os.mkfifo(fifo)
    body = urllib.parse.urlencode({"csrf_token": customer.token, "folder": "NPKI/yessign/USER/cn=expired",
                                   "confirm": "yes"}).encode()
    try:
        try:
            with customer.opener.open(customer.base + "/journey/check/delete", data=body, timeout=10) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except TimeoutError:
            pytest.fail("the request thread waits on the FIFO")
    finally:
        try:  # a writer lets a blocked reader go (before the fix), so the server can stop
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    assert status in (200, 422)
    assert fifo.exists()  # nothing that is not the certificate shown is removed


def test_two_password_changes_of_one_certificate_tell_the_second_and_keep_the_first(app, live_server):
    drive = insert_drive(app)
    first, second = Customer(live_server.url), Customer(live_server.url)
    issue_certificate(app, first, drive)
    for customer in (first, second):
        start(customer, "change_password")
        customer.post("/journey/source", {"drive_id": drive.id})
        pick_certificate(customer, GOOD_PASSWORD)
        assert customer.url.endswith("/journey/password"), customer.url

    first.post("/journey/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    if first.url.endswith("/journey/issuing"):
        wait_for_issuing(first)
    assert "인증서 비밀번호를 바꿨습니다" in first.page
    insert_drive(app)  # the stick comes back for the second session, still at its password step
    second.post("/journey/password", {"password": "Another#9182z", "confirm": "Another#9182z"})
    if second.url.endswith("/journey/issuing"):
        wait_for_issuing(second)

    assert "인증서 비밀번호를 바꿨습니다" not in second.page
    assert "다른 화면에서 바뀌었습니다" in second.page
    [folder] = certificate_folders(stick_root(app))
    decrypt_private_key((folder / "signPri.key").read_bytes(), NEW_PASSWORD)
    with pytest.raises(WrongPassword):
        decrypt_private_key((folder / "signPri.key").read_bytes(), "Another#9182z")

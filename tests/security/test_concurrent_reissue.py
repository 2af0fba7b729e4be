"""One replacement per certificate, decided in the database (issue 20, item 6): two sessions for 홍길동
over HTTP against a real server, both replacing the same serial, deliver one certificate between them;
and the reissue list never offers a certificate that has not reached a stick yet."""

from __future__ import annotations

import re
import threading

from hardware.demo import demo_drives_dir
from tests.http_customer import (
    Customer,
    insert_drive,
    issue_to,
    wait_for_issuing,
    walk_to_drive,
    walk_to_identity,
)
from tests.walker import GOOD_PASSWORD, HONG, identity_form, last_code


def code_of(app):
    return lambda: last_code(app)


def delivered_once(app, live_server, stick: str) -> str:
    """홍길동 gets a first certificate on `stick`; its serial."""
    customer = Customer(live_server.url)
    walk_to_drive(customer, code_of(app))
    issue_to(customer, insert_drive(app, stick).id)
    assert customer.url.endswith("/journey/done"), customer.page
    (serial,) = _serials(app)
    return serial


def _serials(app) -> list[str]:
    return sorted(app.extensions["kiosk"].issuance.registry.serials())


def at_the_replace_step(app, live_server) -> Customer:
    customer = Customer(live_server.url)
    walk_to_identity(customer, "reissue")
    customer.post("/journey/identity", identity_form(HONG))
    customer.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})
    customer.post("/journey/email", {"code": last_code(app)})
    assert customer.url.endswith("/journey/replace"), customer.url
    return customer


def offered(customer: Customer) -> set[str]:
    return set(re.findall(r'name="serial" value="([0-9a-fA-F]+)"', customer.page))


def test_two_sessions_replacing_the_same_certificate_deliver_one_replacement(app, live_server):
    old = delivered_once(app, live_server, "first")
    first, second = at_the_replace_step(app, live_server), at_the_replace_step(app, live_server)
    for customer in (first, second):
        customer.post("/journey/replace", {"serial": old})
        customer.post("/journey/password", {"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
        assert customer.url.endswith("/journey/drive"), customer.url
    sticks = {first: insert_drive(app, "a").id, second: insert_drive(app, "b").id}

    barrier = threading.Barrier(2)

    def choose(customer):
        barrier.wait()
        customer.post("/journey/drive", {"drive_id": sticks[customer]})
        wait_for_issuing(customer)

    threads = [threading.Thread(target=choose, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    replacements = [r for r in app.extensions["kiosk"].issuance.registry.for_customer(
        app.extensions["kiosk"].issuance.registry.get(old).customer_key) if r.replaces == old]
    assert [r.status for r in replacements if r.status == "delivered"] == ["delivered"]
    assert all(r.status == "revoked" for r in replacements if r.status != "delivered")
    landed = sorted(c.url.rsplit("/", 1)[-1] for c in (first, second))
    assert landed == ["done", "drive"]
    loser = first if first.url.endswith("/drive") else second
    assert "이미 다른 화면에서 재발급" in loser.page


def test_the_reissue_list_offers_only_certificates_that_reached_a_stick(app, live_server):
    delivered = delivered_once(app, live_server, "first")
    pending = Customer(live_server.url)
    walk_to_drive(pending, code_of(app))
    stick = insert_drive(app, "odd")
    (demo_drives_dir(app.extensions["kiosk"].settings.data_dir) / "odd" / "root" / "NPKI").write_text("a file")
    issue_to(pending, stick.id)
    assert pending.url.endswith("/journey/drive"), "the write was refused: issued, not delivered"
    not_delivered = (set(_serials(app)) - {delivered}).pop()

    customer = at_the_replace_step(app, live_server)

    assert offered(customer) == {delivered}
    customer.post("/journey/replace", {"serial": not_delivered})
    assert customer.status == 422 and customer.url.endswith("/journey/replace")

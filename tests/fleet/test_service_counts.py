"""Every service is counted by its own label, completed and failed (issue 26, item 11): copies and
password changes were started but never completed in the fleet's metrics although `issue.completed` was
logged. Walked over real HTTP on a demo stick the kiosk wrote; the counters read from the kiosk's own
Prometheus registry, and the staff console's 발급 완료 still counts issuances only."""

from __future__ import annotations

from tests.http_customer import Customer, insert_drive, issue_to, wait_for_issuing
from tests.journey.test_manage import NEW_PASSWORD, issue_certificate, pick_certificate, start
from tests.walker import GOOD_PASSWORD


def completed(app, service: str) -> float:
    registry = app.extensions["kiosk"].metrics.registry
    return registry.get_sample_value("kiosk_issuances_completed_total", {"service": service})


def test_copies_and_password_changes_are_counted_completed_by_their_own_label(app, live_server):
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    issue_certificate(app, customer, drive)

    start(customer, "change_password")
    customer.post("/journey/source", {"drive_id": drive.id})
    pick_certificate(customer, GOOD_PASSWORD)
    customer.post("/journey/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    if customer.url.endswith("/journey/issuing"):
        wait_for_issuing(customer)
    assert "인증서 비밀번호를 바꿨습니다" in customer.page
    customer.post("/reset")

    insert_drive(app)
    start(customer, "copy")
    customer.post("/journey/source", {"drive_id": drive.id})
    pick_certificate(customer, NEW_PASSWORD)
    issue_to(customer, insert_drive(app, "second").id)
    assert "인증서를 복사했습니다" in customer.page

    assert completed(app, "change_password") == 1
    assert completed(app, "copy") == 1
    assert completed(app, "new") == 1
    assert app.extensions["kiosk"].metrics.audited_total("certificate.delivered") == 1  # 발급 완료: one

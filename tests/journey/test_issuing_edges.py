"""The issuing pipeline's edges, with the real CA, registry and demo drives."""

from dataclasses import replace

from tests.http_customer import insert_drive
from tests.walker import GOOD_PASSWORD


def visit_at_drive_step(walker, app):
    drive = insert_drive(app)
    walker.to_password()
    walker.post("/journey/password", {"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    visit = walker.visit()
    assert app.extensions["kiosk"].flow.delivery.choose_drive(visit, drive.id).ok
    return visit, drive


def test_a_session_ending_while_the_ca_signs_revokes_what_it_signed_and_writes_nothing(walker, app):
    services = app.extensions["kiosk"]
    visit, _ = visit_at_drive_step(walker, app)
    customer_key = visit.customer.customer_key
    visit.ended = True  # the reset arrives before the pipeline has a certificate to revoke
    services.flow.delivery.issue_and_deliver(visit)
    records = services.issuance.certificates_for(customer_key)
    assert [(r.status, r.revocation_reason) for r in records] == [("revoked", "cessationOfOperation")]
    assert not list((services.settings.data_dir / "demo-drives").rglob("signPri.key"))


def test_an_unexpected_error_in_the_pipeline_sends_the_customer_back_with_a_message(walker, app, caplog):
    services = app.extensions["kiosk"]
    visit, _ = visit_at_drive_step(walker, app)
    broken = replace(services.flow.delivery, drives=None)  # no drive manager at all: a bug, not a drive error
    broken.issue_and_deliver(visit)
    assert visit.run.finished and visit.run.error == "issuance_failed"
    assert visit.journey.current.value == "drive"
    assert any("issue.crashed" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_certificate_that_never_reached_a_drive_is_revoked_when_the_customer_leaves(walker, app):
    services = app.extensions["kiosk"]
    tiny = insert_drive(app, "tiny", size_bytes=1024)
    walker.to_password()
    walker.post("/journey/password", {"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    visit = walker.visit()
    customer_key = visit.customer.customer_key
    assert services.flow.delivery.choose_drive(visit, tiny.id).ok
    services.flow.delivery.issue_and_deliver(visit)
    assert visit.run.error == "drive_full"
    [record] = services.issuance.certificates_for(customer_key)
    assert record.status == "issued"
    walker.post("/reset")  # 처음으로 instead of another drive
    [record] = services.issuance.certificates_for(customer_key)
    assert (record.status, record.revocation_reason) == ("revoked", "cessationOfOperation")

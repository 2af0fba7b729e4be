"""The issuing pipeline's edges, with the real CA, registry and demo drives."""

from hardware.demo import insert_demo_drive
from tests.walker import GOOD_PASSWORD


def flow_at_drive_step(walker, app):
    drive = insert_demo_drive(app.extensions["kiosk"].settings.data_dir, "stick", label="MYUSB")
    walker.to_password()
    walker.post("/journey/password", {"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    flow = walker.flow()
    flow.choose_drive(drive.id)
    return flow, drive


def test_a_session_ending_while_the_ca_signs_revokes_what_it_signed_and_writes_nothing(walker, app):
    services = app.extensions["kiosk"]
    flow, _ = flow_at_drive_step(walker, app)
    customer_key = flow.customer.customer_key
    flow.abandon(None)  # the reset arrives before the pipeline has a certificate to revoke
    flow.issue_and_deliver(services.issuance, services.drives)
    records = services.issuance.certificates_for(customer_key)
    assert [(r.status, r.revocation_reason) for r in records] == [("revoked", "cessationOfOperation")]
    assert not list((services.settings.data_dir / "demo-drives").rglob("signPri.key"))


def test_an_unexpected_error_in_the_pipeline_sends_the_customer_back_with_a_message(walker, app, caplog):
    services = app.extensions["kiosk"]
    flow, _ = flow_at_drive_step(walker, app)
    flow.issue_and_deliver(services.issuance, None)  # no drive manager at all: a bug, not a drive error
    assert flow.run.finished and flow.run.error == "issuance_failed"
    assert flow.journey.current.value == "drive"
    assert any("issue.crashed" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_certificate_that_never_reached_a_drive_is_revoked_when_the_customer_leaves(walker, app):
    services = app.extensions["kiosk"]
    tiny = insert_demo_drive(services.settings.data_dir, "tiny", label="TINY", size_bytes=1024)
    walker.to_password()
    walker.post("/journey/password", {"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    flow = walker.flow()
    customer_key = flow.customer.customer_key
    flow.choose_drive(tiny.id)
    flow.issue_and_deliver(services.issuance, services.drives)
    assert flow.run.error == "drive_full"
    [record] = services.issuance.certificates_for(customer_key)
    assert record.status == "issued"
    walker.post("/reset")  # 처음으로 instead of another drive
    [record] = services.issuance.certificates_for(customer_key)
    assert (record.status, record.revocation_reason) == ("revoked", "cessationOfOperation")

"""처음으로 (or the idle countdown) while the bundle is being written to the stick (issue 20, item 3).

Found from outside: a reset during the write stage revoked the certificate while its files stayed on the
stick, which was never ejected. Now ending a visit waits for a write under way: the customer keeps a
valid, delivered certificate on an ejected stick, and nothing revoked is left behind.

The stick is the kiosk's demo drive behind a stand-in that holds the write until the test lets it go
(a slow real stick takes seconds; this makes the moment certain). Everything else is real: the waitress
server, sessions, CSRF, the CA and the registry.
"""

from __future__ import annotations

import threading

from tests.hardware.conftest import complete_bundles
from tests.http_customer import Customer, choose_drive, insert_drive, walk_to_drive
from tests.waiting import wait_for
from tests.walker import HONG, last_code


class SlowStickStandIn:
    """The kiosk's drive manager, with each write held until `finish` is set."""

    def __init__(self, manager):
        self.manager = manager
        self.writing = threading.Event()
        self.finish = threading.Event()

    def deliver(self, *args, **kwargs):
        self.writing.set()
        assert self.finish.wait(30), "the test never let the write finish"
        return self.manager.deliver(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.manager, name)


def test_starting_over_during_the_write_leaves_a_delivered_certificate_not_a_revoked_one(app, live_server,
                                                                                          monkeypatch):
    kiosk = app.extensions["kiosk"]
    stick = SlowStickStandIn(kiosk.drives)
    monkeypatch.setattr(kiosk.flow.delivery, "drives", stick)
    drive = insert_drive(app)
    customer = Customer(live_server.url)
    walk_to_drive(customer, lambda: last_code(app))
    choose_drive(customer, drive.id)
    assert stick.writing.wait(30), "the write never started"
    [visit] = [entry.session["visit"] for _, entry in app.extensions["kiosk.sessions"].active()]

    reset = threading.Thread(target=customer.post, args=("/reset",))
    reset.start()
    wait_for(lambda: visit.ended, "the reset reaching the kiosk while the write is under way")
    stick.finish.set()
    reset.join(60)

    assert not reset.is_alive() and customer.url.endswith("/"), customer.url
    [record] = kiosk.issuance.certificates_for(_customer_key(app))
    assert record.status == "delivered", record
    root = kiosk.settings.data_dir / "demo-drives" / "stick" / "root"
    assert len(complete_bundles(root)) == 1
    assert (root.parent / "ejected").exists()
    actions = [entry["action"] for entry in kiosk.audit.recent()]
    assert "certificate.delivered" in actions and "certificate.revoked" not in actions


def _customer_key(app):
    from kiosk.pii import customer_key

    return customer_key(app.extensions["kiosk"].settings.customer_hash_key, HONG.rrn)

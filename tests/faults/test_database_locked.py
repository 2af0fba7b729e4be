"""The database locked by another writer: a polite screen, no 500, and the customer keeps their place."""

import sqlite3

from tests.walker import HONG


def test_a_locked_database_during_the_account_check_keeps_the_customers_place(walker, app):
    walker.to_account()
    walker.services.store.connect().execute("PRAGMA busy_timeout = 100")
    blocker = sqlite3.connect(walker.services.store.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        response = walker.post("/journey/account", {"account": HONG.account, "pin": "0000"})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert response.status_code == 503
    assert "잠시 후 다시 시도해 주세요" in response.get_data(as_text=True)
    assert walker.current_step() == "account"
    response = walker.post("/journey/account", {"account": HONG.account, "pin": HONG.pin})
    assert response.headers["Location"].endswith("/journey/email")

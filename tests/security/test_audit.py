"""The audit log is append-only and hash-chained: an edited row is found by `kiosk audit verify`."""

import os
import sqlite3
import subprocess
import sys

import pytest

from kiosk.store import Store
from kiosk.store.audit import AuditLog


@pytest.fixture
def store(data_dir):
    store = Store(data_dir / "kiosk.sqlite3")
    store.migrate()
    return store


def test_rows_cannot_be_updated_or_deleted_through_sql(store):
    AuditLog(store).record("staff:kim", "session.reset_by_staff")
    with pytest.raises(sqlite3.IntegrityError):
        store.execute("UPDATE audit_log SET actor = 'nobody'")
    with pytest.raises(sqlite3.IntegrityError):
        store.execute("DELETE FROM audit_log")


def test_an_intact_chain_verifies(store):
    log = AuditLog(store)
    for n in range(5):
        log.record("system", "session.reset", detail=f"n={n}")
    assert log.verify().ok and log.verify().rows == 5


def tamper(store, sql):
    conn = store.connect()
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute(sql)


def test_an_edited_row_breaks_the_chain_where_it_was_edited(store):
    log = AuditLog(store)
    for n in range(5):
        log.record("system", "certificate.delivered", subject=f"serial{n}")
    tamper(store, "UPDATE audit_log SET subject = 'forged' WHERE id = 3")
    check = log.verify()
    assert not check.ok and check.broken_at == 3


def test_a_deleted_row_breaks_the_chain(store):
    log = AuditLog(store)
    for n in range(4):
        log.record("system", "certificate.delivered", subject=f"serial{n}")
    tamper(store, "DELETE FROM audit_log WHERE id = 2")
    assert log.verify().broken_at == 3


def test_kiosk_audit_verify_exits_non_zero_on_tampering(store, data_dir):
    AuditLog(store).record("system", "certificate.delivered", subject="a")
    AuditLog(store).record("system", "certificate.delivered", subject="b")
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir)}
    ok = subprocess.run([sys.executable, "-m", "kiosk", "audit", "verify"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and "intact: 2 rows" in ok.stdout
    tamper(store, "UPDATE audit_log SET detail = 'x' WHERE id = 1")
    broken = subprocess.run([sys.executable, "-m", "kiosk", "audit", "verify"], env=env, capture_output=True, text=True)
    assert broken.returncode == 1 and "BROKEN at row 1" in broken.stdout

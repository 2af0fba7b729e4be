import sqlite3
import threading

from kiosk.store import Store, migrations


def test_migrate_creates_the_schema_and_is_idempotent(tmp_path):
    store = Store(tmp_path / "k.sqlite3")
    applied = store.migrate()
    assert applied == [n for n, _ in migrations()]
    assert store.migrate() == []
    assert store.version == migrations()[-1][0]


def test_wal_mode_is_on(tmp_path):
    store = Store(tmp_path / "k.sqlite3")
    store.migrate()
    assert store.query_one("PRAGMA journal_mode")[0] == "wal"


def test_each_thread_has_its_own_connection(tmp_path):
    store = Store(tmp_path / "k.sqlite3")
    store.migrate()
    seen = []
    thread = threading.Thread(target=lambda: seen.append(store.connect()))
    thread.start()
    thread.join()
    assert seen[0] is not store.connect()


def test_a_failed_transaction_leaves_nothing_behind(tmp_path):
    store = Store(tmp_path / "k.sqlite3")
    store.migrate()
    try:
        with store.transaction() as conn:
            conn.execute("INSERT INTO kiosk_state(name, value) VALUES ('a', '1')")
            conn.execute("INSERT INTO kiosk_state(name, value) VALUES ('a', '2')")
    except sqlite3.IntegrityError:
        pass
    assert store.query_one("SELECT count(*) FROM kiosk_state")[0] == 0

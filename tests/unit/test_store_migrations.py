"""The rule that lets an A/B update roll back (issue 29, item 5): every migration is additive, so the
previous release still runs on the schema a later one migrated. The store, the doctor and the kiosk's start
treat a newer schema as a rollback, an older one as a kiosk that needs `kiosk init`."""

from __future__ import annotations

import sqlite3

import pytest

from kiosk.health.doctor import check_database
from kiosk.store import Store, StoreError, migrations

# what a migration may do: add tables, columns (with their defaults), indexes, triggers, views and rows
ADDITIVE = ("CREATE TABLE", "CREATE INDEX", "CREATE UNIQUE INDEX", "CREATE TRIGGER", "CREATE VIEW",
            "INSERT INTO", "INSERT OR IGNORE INTO")


def statements(script: str) -> list[str]:
    """The script's statements as SQLite splits them (a trigger's body is part of its statement)."""
    found, pending = [], ""
    for line in script.splitlines():
        pending += line.split("--", 1)[0] + "\n"
        if sqlite3.complete_statement(pending):
            found.append(" ".join(pending.split()))
            pending = ""
    assert not pending.strip(), f"an unfinished statement: {pending!r}"
    return found


def is_additive(statement: str) -> bool:
    upper = statement.upper()
    if upper.startswith("ALTER TABLE"):
        return " ADD COLUMN " in upper and (" NOT NULL" not in upper or " DEFAULT " in upper)
    return upper.startswith(ADDITIVE)


@pytest.mark.parametrize("number, path", migrations(), ids=lambda value: getattr(value, "name", str(value)))
def test_every_migration_only_adds(number, path):
    for statement in statements(path.read_text(encoding="utf-8")):
        assert is_additive(statement), f"{path.name}: not additive, a rollback could not read it: {statement}"


@pytest.mark.parametrize("statement", ["DROP TABLE lockouts", "ALTER TABLE staff RENAME TO people",
                                       "ALTER TABLE staff DROP COLUMN name", "DELETE FROM lockouts",
                                       "ALTER TABLE staff ADD COLUMN team TEXT NOT NULL",
                                       "UPDATE certificates SET status = 'x'"])
def test_what_a_rollback_could_not_read_is_not_additive(statement):
    assert not is_additive(statement)


def newer_release(kiosk) -> int:
    """What the next release's migration would do to this kiosk's database: one more table, one more
    column with a default, and its version."""
    version = migrations()[-1][0] + 1
    kiosk.store.connect().executescript(
        "BEGIN IMMEDIATE; CREATE TABLE next_release_notes (id INTEGER PRIMARY KEY, body TEXT);"
        " ALTER TABLE lockouts ADD COLUMN next_release_flag INTEGER NOT NULL DEFAULT 0;"
        f" PRAGMA user_version = {version}; COMMIT;")
    return version


def test_after_a_rollback_the_kiosk_starts_and_the_doctor_says_why_the_schema_is_newer(kiosk, caplog):
    version = newer_release(kiosk)
    again = Store(kiosk.settings.database_path)
    again.check_current()                              # no "run kiosk init" for a newer schema
    assert again.migrate() == [] and again.version == version
    check = check_database(kiosk)
    assert check.ok and "newer than this release" in check.detail and "rollback" in check.detail
    from kiosk.wiring import build
    rolled_back = build(kiosk.settings).start()        # this release, started on the later schema
    try:
        assert "store.schema_newer_than_code" in caplog.text
        rolled_back.audit.record("system", "rollback.checked", detail="")   # and it writes as before
        assert rolled_back.audit.verify().ok
    finally:
        rolled_back.close()


def test_an_older_schema_still_asks_for_kiosk_init(tmp_path):
    store = Store(tmp_path / "old.sqlite3")
    store.connect().execute("PRAGMA user_version = 1")
    with pytest.raises(StoreError, match="run `kiosk init`"):
        store.check_current()

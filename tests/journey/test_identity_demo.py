"""The demo identity adapters on a real SQLite file, and the lockout that survives restarts."""

from datetime import date

import pytest

from kiosk.identity.demo import DEMO_CUSTOMERS, DemoAccounts, DemoDirectory, seed_demo_customers
from kiosk.identity.lockouts import LockingAccounts, Lockouts
from kiosk.store import Store

KEY = "test-hash-key"
HONG = DEMO_CUSTOMERS[0]


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "kiosk.sqlite3")
    store.migrate()
    seed_demo_customers(store, KEY)
    return store


def find_hong(store, **changes):
    fields = {"name": HONG.name, "rrn": HONG.rrn.replace("-", ""), "id_kind": HONG.id_kind,
              "id_issue_date": date.fromisoformat(HONG.id_issue_date)}
    fields.update(changes)
    return DemoDirectory(store, KEY).find(**fields)


def test_seeding_is_idempotent(store):
    assert seed_demo_customers(store, KEY) == 0


def test_the_resident_number_is_not_stored(store):
    dump = "\n".join(store.connect().iterdump())
    assert HONG.rrn.replace("-", "") not in dump and HONG.rrn not in dump


def test_a_customer_is_found_only_when_everything_matches(store):
    assert find_hong(store).name == HONG.name
    assert find_hong(store, name="홍길순") is None
    assert find_hong(store, id_kind="driver_license") is None
    assert find_hong(store, id_issue_date=date(2015, 3, 3)) is None
    assert find_hong(store, rrn="9001011234567") is None


def test_five_wrong_pins_lock_and_the_lock_survives_a_restart(store, tmp_path):
    hong = find_hong(store)
    accounts = LockingAccounts(DemoAccounts(store, KEY), Lockouts(store))
    left = [accounts.verify(hong, HONG.account, "0000").tries_left for _ in range(5)]
    assert left == [4, 3, 2, 1, 0]
    restarted = Store(store.path)
    again = LockingAccounts(DemoAccounts(restarted, KEY), Lockouts(restarted))
    check = again.verify(hong, HONG.account, HONG.pin)
    assert check.locked and not check.ok


def test_a_success_resets_the_count(store):
    hong = find_hong(store)
    accounts = LockingAccounts(DemoAccounts(store, KEY), Lockouts(store))
    accounts.verify(hong, HONG.account, "0000")
    assert accounts.verify(hong, HONG.account, HONG.pin).ok
    assert Lockouts(store).failures(hong.customer_key) == 0


def test_the_right_pin_on_someone_elses_account_fails(store):
    hong = find_hong(store)
    other = DEMO_CUSTOMERS[1]
    assert not DemoAccounts(store, KEY).check(hong, other.account, HONG.pin)


def test_staff_unlock_lifts_the_lock(store):
    hong = find_hong(store)
    lockouts = Lockouts(store)
    for _ in range(5):
        lockouts.record_failure(hong.customer_key)
    assert lockouts.is_locked(hong.customer_key)
    assert lockouts.reset(hong.customer_key) is True
    assert not lockouts.is_locked(hong.customer_key)

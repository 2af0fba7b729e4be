"""The demo identity adapters on a real SQLite file, and the lockout that survives restarts."""

from datetime import date

import pytest

from kiosk.identity import IdCheckOutcome
from kiosk.identity.demo import DEMO_CUSTOMERS, DemoAccounts, DemoDirectory, DemoIdCheck, seed_demo_customers
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


def test_the_demo_directory_lists_hongs_two_accounts_masked(store):
    accounts = DemoDirectory(store, KEY).accounts(find_hong(store))
    assert [a.masked for a in accounts] == ["012345-**-**4567", "012345-**-**6543"]
    assert [a.account for a in accounts] == [a.replace("-", "") for a in HONG.accounts]


def test_every_demo_account_opens_with_its_pin(store):
    for person in DEMO_CUSTOMERS:
        customer = DemoDirectory(store, KEY).find(person.name, person.rrn.replace("-", ""), person.id_kind,
                                                  date.fromisoformat(person.id_issue_date))
        listed = DemoDirectory(store, KEY).accounts(customer)
        assert [a.account for a in listed] == [a.replace("-", "") for a in person.accounts]
        for account in person.accounts:
            assert DemoAccounts(store, KEY).check(customer, account, person.pin)
            assert not DemoAccounts(store, KEY).check(customer, account, "0000")


def test_seeding_an_older_demo_database_adds_the_cards_and_accounts(tmp_path):
    """A data dir seeded before issue 25 (no demo_accounts rows, no licence) gets them from `kiosk init --demo`."""
    store = Store(tmp_path / "kiosk.sqlite3")
    store.migrate()
    seed_demo_customers(store, KEY)
    with store.transaction() as conn:
        conn.execute("DELETE FROM demo_accounts")
        conn.execute("UPDATE demo_customers SET licence_number = '', licence_serial = ''")
    assert seed_demo_customers(store, KEY) == 0
    kim = DEMO_CUSTOMERS[1]
    assert DemoIdCheck(store, KEY).check(kim.id_kind, kim.name, kim.rrn.replace("-", ""),
                                         date.fromisoformat(kim.id_issue_date), kim.licence_number,
                                         kim.licence_serial) is IdCheckOutcome.MATCHES
    assert len(DemoDirectory(store, KEY).accounts(find_hong(store))) == 2


def check_card(store, person, **changes):
    fields = {"kind": person.id_kind, "name": person.name, "rrn": person.rrn.replace("-", ""),
              "issue_date": date.fromisoformat(person.id_issue_date),
              "licence_number": person.licence_number, "licence_serial": person.licence_serial}
    fields.update(changes)
    return DemoIdCheck(store, KEY).check(**fields)


def test_every_demo_card_but_the_lost_one_matches(store):
    outcomes = {person.name: check_card(store, person) for person in DEMO_CUSTOMERS}
    assert outcomes.pop("정하늘") is IdCheckOutcome.REPORTED_LOST
    assert set(outcomes.values()) == {IdCheckOutcome.MATCHES}


@pytest.mark.parametrize("changes", [{"name": "홍길순"}, {"issue_date": date(2015, 3, 3)},
                                     {"kind": "driver_license"}, {"rrn": "9001011234567"}],
                         ids=["name", "issue-date", "kind", "rrn"])
def test_a_card_differing_in_any_field_is_a_mismatch(store, changes):
    assert check_card(store, HONG, **changes) is IdCheckOutcome.MISMATCH


@pytest.mark.parametrize("changes", [{"licence_number": "21-19-174133-03"}, {"licence_serial": "K7WQ2N"},
                                     {"licence_serial": ""}], ids=["number", "serial", "no-serial"])
def test_a_licence_differing_in_number_or_serial_is_a_mismatch(store, changes):
    assert check_card(store, DEMO_CUSTOMERS[1], **changes) is IdCheckOutcome.MISMATCH


def test_the_lost_card_with_a_wrong_field_is_a_mismatch_not_lost(store):
    lost = next(p for p in DEMO_CUSTOMERS if p.id_reported_lost)
    assert check_card(store, lost, issue_date=date(2016, 9, 2)) is IdCheckOutcome.MISMATCH

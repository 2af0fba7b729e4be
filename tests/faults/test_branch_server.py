"""Branch-server mode: one kiosk server, 100 customers at once (a branch's kiosks and staff tablets on one
box). Real waitress with its thread pool, 100 customer threads over HTTP, each with its own session,
its own demo customer (seeded here like `kiosk init --demo` seeds the five), its own e-mail code read by
recipient, and its own stick. No response is a 5xx, every journey ends on the done page, every bundle
opens with the project's verifier (password, VID from the resident number, the CA chain), and the
registry holds exactly one delivered row per customer."""

from __future__ import annotations

import re
import threading
import time
import traceback

import pytest

from kiosk.identity.demo import DemoCustomer, _demo_pin_hash, account_key
from kiosk.pii import customer_key
from kiosk.pki.verify import verify_bundle
from tests.http_customer import Customer, choose_drive, wait_for_issuing, walk_to_drive
from tests.walker import GOOD_PASSWORD

CUSTOMERS = 100
WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def resident_number(n: int) -> str:
    """A well-formed number (valid date and check digit) for the n-th test customer."""
    front, back = f"8{n // 28 % 10}{1 + n // 280:02d}{1 + n % 28:02d}", f"1{n:05d}"
    digits = front + back
    check = (11 - sum(int(d) * w for d, w in zip(digits, WEIGHTS, strict=True)) % 11) % 10
    return f"{front}-{back}{check}"


def branch_customers() -> list[DemoCustomer]:
    return [DemoCustomer("홍길동", f"HONG GILDONG {chr(65 + n // 26)}{chr(65 + n % 26)}", resident_number(n), "resident_card", "2015-03-02",
                         f"customer{n:03d}@example.com", f"012345-99-{n:06d}", "1357")
            for n in range(CUSTOMERS)]


def seed(services, customers: list[DemoCustomer]) -> None:
    """The same rows `seed_demo_customers` writes, for a branch's worth of customers."""
    key = services.settings.customer_hash_key
    with services.store.transaction() as conn:
        conn.executemany(
            "INSERT INTO demo_customers(customer_key, name, english_name, id_kind, id_issue_date, email, "
            "account_key, pin_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(customer_key(key, c.rrn), c.name, c.english_name, c.id_kind, c.id_issue_date, c.email,
              account_key(key, c.account), _demo_pin_hash(c.pin)) for c in customers])


def code_for(services, recipient: str):
    def read() -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row = services.store.query_one(
                "SELECT body FROM demo_outbox WHERE recipient = ? ORDER BY id DESC LIMIT 1", (recipient,))
            if row:
                return re.search(r"\b(\d{6})\b", row["body"]).group(1)
            time.sleep(0.05)
        raise AssertionError(f"no code for customer {recipient}")
    return read


@pytest.fixture
def app_config(app_config):
    return {**app_config, "idle_seconds": 600, "idle_warning_seconds": 60}


def test_a_hundred_concurrent_journeys_on_one_server(app, live_server):
    from hardware.demo import insert_demo_drive

    services = app.extensions["kiosk"]
    customers = branch_customers()
    seed(services, customers)
    data_dir = services.settings.data_dir
    drives = [insert_demo_drive(data_dir, f"stick-{n:03d}", label=f"S{n:03d}") for n in range(CUSTOMERS)]
    deadline = time.monotonic() + 10
    while len([d for d in services.drives.drives() if d.eligible]) < CUSTOMERS:
        assert time.monotonic() < deadline, "the 100 sticks never all appeared"
        time.sleep(0.05)

    browsers = [Customer(live_server.url) for _ in customers]
    failures: list[str] = []
    durations: list[float] = []
    start = threading.Barrier(CUSTOMERS)

    def journey(n: int) -> None:
        browser, person = browsers[n], customers[n]
        try:
            start.wait()
            began = time.monotonic()
            walk_to_drive(browser, code_for(services, person.email), person=person)
            choose_drive(browser, drives[n].id)
            wait_for_issuing(browser, timeout=110, interval=0.5)
            assert browser.url.endswith("/journey/done"), browser.url
            durations.append(time.monotonic() - began)
        except Exception:  # noqa: BLE001 - every customer's failure is reported, not only the first
            failures.append(f"customer {n}: {traceback.format_exc(limit=3)}")

    began = time.monotonic()
    threads = [threading.Thread(target=journey, args=(n,), name=f"customer-{n}") for n in range(CUSTOMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=150)
    wall = time.monotonic() - began
    print(f"{CUSTOMERS} journeys in {wall:.1f} s; slowest journey {max(durations, default=0):.1f} s")
    assert failures == [], "\n".join(failures[:5])
    server_errors = [(n, s) for n, b in enumerate(browsers) for s in b.statuses if s >= 500]
    assert server_errors == []

    rows = services.store.query_all("SELECT customer_key, status, delivered_to FROM certificates")
    assert len(rows) == CUSTOMERS
    key = services.settings.customer_hash_key
    by_customer = {r["customer_key"]: (r["status"], r["delivered_to"]) for r in rows}
    assert by_customer == {customer_key(key, c.rrn): ("delivered", f"DEMO-STICK-{n:03d}")
                           for n, c in enumerate(customers)}
    chain = services.issuance.ca_chain_pem()
    serials = set()
    for n, person in enumerate(customers):
        [key_file] = list((data_dir / "demo-drives" / f"stick-{n:03d}" / "root").rglob("signPri.key"))
        check = verify_bundle((key_file.parent / "signCert.der").read_bytes(), key_file.read_bytes(),
                              GOOD_PASSWORD, idn=person.rrn.replace("-", ""), chain_pem=chain)
        assert check.vid_matches and check.real_name == person.name
        serials.add(check.serial)
    assert len(serials) == CUSTOMERS

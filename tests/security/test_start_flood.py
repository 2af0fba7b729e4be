"""A flood of POST /start (issue 20, "also questionable": ~7,400 in 30 s) leaves no permanent trace and
does not bloat the staff console: sessions that never identified anyone are not audited when they end,
and the console lists a handful of sessions with a count. Over HTTP against a real server."""

from __future__ import annotations

import re

from kiosk.staff import add_staff
from tests.http_customer import Customer

FLOOD = 60


def audit_rows(app, action: str) -> int:
    return app.extensions["kiosk"].store.query_one(
        "SELECT count(*) FROM audit_log WHERE action = ?", (action,))[0]


def staff_console(server) -> Customer:
    staff = Customer(server.url)
    staff.get("/staff/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', staff.page).group(1)
    staff.token = token
    staff.post("/staff/sign-in", {"name": "김직원", "pin": "482916"})
    assert staff.url.rstrip("/").endswith("/staff"), staff.url
    return staff


def test_a_flood_of_starts_writes_no_audit_rows_and_the_console_stays_small(app, live_server):
    add_staff(app.extensions["kiosk"].store, "김직원", "482916")
    for _ in range(FLOOD):
        flooder = Customer(live_server.url)  # no cookie kept between starts, as a script would
        flooder.get("/")
        flooder.post("/start")
        assert flooder.url.endswith("/journey/service")

    staff = staff_console(live_server)
    assert staff.page.count("고객 단계") <= 10 and f"그 밖의 세션 {FLOOD - 10}개" in staff.page
    staff.post("/staff/reset")

    assert audit_rows(app, "session.reset") == 0, "no customer was in any of them"
    assert audit_rows(app, "session.reset_by_staff") == 1

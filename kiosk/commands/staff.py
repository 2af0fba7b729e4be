"""`kiosk staff add NAME` and `kiosk audit verify`."""

from __future__ import annotations

import click

from kiosk.staff import add_staff
from kiosk.store import Store
from kiosk.store.audit import AuditLog

DEMO_STAFF = ("데모직원", "246810")  # README lists it; only `kiosk init --demo` creates it


def initialise(settings, store, demo, echo) -> None:
    """In demo mode, one staff member so that /staff can be tried at once."""
    if not demo:
        return
    name, pin = DEMO_STAFF
    if store.query_one("SELECT 1 FROM staff WHERE name = ?", (name,)) is None:
        add_staff(store, name, pin)
        AuditLog(store).record("system", "staff.added", subject=name)
        echo(f"demo staff: {name} added")
    else:
        echo("demo staff: present")


def _store() -> Store:
    from kiosk.commands import load_settings

    store = Store(load_settings().database_path)
    store.check_current()
    return store


def register(group: click.Group) -> None:
    @group.group("staff")
    def staff() -> None:
        """Staff who may sign in to /staff."""

    @staff.command("add")
    @click.argument("name")
    @click.option("--pin", prompt="PIN (4-12 digits)", hide_input=True, confirmation_prompt=True)
    def staff_add(name: str, pin: str) -> None:
        """Add a staff member, or change their PIN."""
        store = _store()
        try:
            add_staff(store, name, pin)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        AuditLog(store).record("system", "staff.added", subject=name)
        click.echo(f"staff {name}: saved")

    @group.group("audit")
    def audit() -> None:
        """The hash-chained audit log."""

    @audit.command("verify")
    def audit_verify() -> None:
        """Check every row's hash chain; exit 1 at the first broken row."""
        check = AuditLog(_store()).verify()
        if not check.ok:
            click.echo(f"audit log BROKEN at row {check.broken_at} ({check.rows} rows)")
            raise SystemExit(1)
        click.echo(f"audit log intact: {check.rows} rows")

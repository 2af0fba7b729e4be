"""`kiosk init --demo` seeds the demo customers; `kiosk unlock` lifts a customer's account lockout."""

from __future__ import annotations

import click

from kiosk.identity.demo import seed_demo_customers
from kiosk.identity.lockouts import Lockouts


def initialise(settings, store, demo, echo) -> None:
    if not demo:
        return
    added = seed_demo_customers(store, settings.customer_hash_key)
    echo(f"demo customers: {added} added" if added else "demo customers: present")


def register(group: click.Group) -> None:
    @group.command("lockouts")
    def lockouts() -> None:
        """List customers whose kiosk issuance is locked (by keyed hash only)."""
        from kiosk.commands import load_settings
        from kiosk.store import Store

        store = Store(load_settings().database_path)
        for row in Lockouts(store).locked_keys():
            click.echo(f"{row['customer_key']}  failures={row['failures']}  locked_at={row['locked_at']}")

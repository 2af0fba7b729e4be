"""`kiosk doctor`: one line per check, a fix under each failure, a non-zero exit when anything failed."""

from __future__ import annotations

import json

import click

from kiosk.health import doctor, screen
from kiosk.settings import Settings


def register(group: click.Group) -> None:
    group.add_command(doctor_command)


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="print the checks as JSON (what /healthz returns)")
@click.option("--restart-silent-browser", is_flag=True,
              help="only check the browser, and restart its unit when its screen went silent (the timer's job)")
def doctor_command(as_json: bool, restart_silent_browser: bool) -> None:
    """Check configuration, database, CA, CRL, e-mail, drives, browser, clock and disk."""
    if restart_silent_browser:
        click.echo(screen.restart_silent_browser(Settings.from_env()).line())
        return
    checks = doctor.run_from_env()
    if as_json:
        click.echo(json.dumps(doctor.report(checks), ensure_ascii=False, indent=2))
    else:
        for check in checks:
            click.echo(check.line())
    if not all(check.ok for check in checks):
        raise SystemExit(1)

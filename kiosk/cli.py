"""The `kiosk` command: init, serve, and each area's commands (see kiosk/commands/)."""

from __future__ import annotations

import sys

import click

from kiosk import logs
from kiosk.commands import area_modules, load_settings
from kiosk.settings import ConfigurationError
from kiosk.store import Store, StoreError


@click.group()
def main() -> None:
    """cert-kiosk: issue 공동인증서 to a customer's USB drive."""


@main.command()
@click.option("--demo", is_flag=True, help="also create demo customers and demo drives")
def init(demo: bool) -> None:
    """Create or upgrade the data directory (idempotent)."""
    settings = load_settings()
    if demo and not settings.is_demo:
        raise click.ClickException("--demo is refused with KIOSK_MODE=production")
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = Store(settings.database_path)
    try:
        applied = store.migrate()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"database {settings.database_path}: schema {store.version}"
               + (f" (applied {', '.join(map(str, applied))})" if applied else " (current)"))
    for module in area_modules():
        step = getattr(module, "initialise", None)
        if step is not None:
            step(settings, store, demo, click.echo)


@main.command()
def serve() -> None:
    """Serve the kiosk through the production WSGI server."""
    from kiosk.server import serve as run_server
    from kiosk.web import create_app, prepare_to_serve

    settings = load_settings()
    logs.setup(settings.log_level)
    try:
        app = create_app(settings)
    except (ConfigurationError, StoreError) as exc:
        logs.error("server.start_failed", reason=str(exc))
        raise click.ClickException(str(exc)) from exc
    from kiosk.commands.pki import demo_ca_process

    with demo_ca_process(settings):  # demo: the CA's own process beside the kiosk (`make run`)
        prepare_to_serve(app)
        run_server(app, settings.host, settings.port, settings.threads, settings.metrics_host,
                   settings.metrics_port)


for _module in area_modules():
    if hasattr(_module, "register"):
        _module.register(main)


if __name__ == "__main__":
    sys.exit(main())

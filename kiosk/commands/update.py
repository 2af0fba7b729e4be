"""`kiosk update fetch`: the appliance's network update (kiosk/updates/fetch.py), run as root by
cert-kiosk-update-fetch.service on its nightly timer, or by the fleet on demand."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kiosk import logs

DOWNLOADS = Path("/data/updates")


def register(group: click.Group) -> None:
    @group.group("update")
    def update() -> None:
        """System updates of the A/B appliance (RAUC)."""

    @update.command("fetch")
    @click.option("--downloads", type=click.Path(path_type=Path), default=DOWNLOADS, show_default=True,
                  help="where the bundle is downloaded (the data partition: it outlives the update)")
    def fetch(downloads: Path) -> None:
        """Install the fleet's newest bundle from KIOSK_UPDATE_URL, then restart once no customer is
        at the screen. Exit 0 when up to date or updated, 1 when the check or the install failed."""
        from kiosk.build import image_version
        from kiosk.commands import load_settings
        from kiosk.updates import UpdaterUnavailable
        from kiosk.updates.fetch import Fetched, FetchFailed, NetworkUpdate, customers_at_screen
        from kiosk.updates.rauc import Rauc

        settings = load_settings()
        logs.setup(settings.log_level)
        if not settings.update_url:
            logs.event("update.fetch_skipped", reason="no_url")
            return
        if not settings.update_url.startswith(("https://", "http://")):
            raise click.ClickException(f"KIOSK_UPDATE_URL must be an http(s) URL, not {settings.update_url!r}")
        try:
            updater = Rauc(settings.rauc_conf)
            fetched = NetworkUpdate(
                updater=updater, running_version=image_version(), base_url=settings.update_url,
                downloads=downloads, rate_bytes=settings.update_rate_kib * 1024,
                customers_at_screen=customers_at_screen(
                    f"http://{settings.metrics_host}:{settings.metrics_port}/metrics"),
                rejected_versions=updater.rejected_versions).run()
        except FetchFailed as failed:
            logs.error("update.fetch_failed", reason=failed.reason, detail=failed.detail)
            sys.exit(1)
        except UpdaterUnavailable as exc:
            logs.error("update.updater_unavailable", detail=str(exc))
            sys.exit(1)
        if fetched in (Fetched.REFUSED, Fetched.INSTALL_FAILED):
            sys.exit(1)

"""`kiosk drives`: what the kiosk sees of its USB ports, for the technician; and the demo drives of
`kiosk init --demo`."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import click

from hardware import Drive, DriveManager
from hardware.demo import demo_drive, demo_drives_dir, insert_demo_drive, remove_demo_drive

DEMO_PASSWORD = "Kiosk!2580x"  # the README's example password
EXPIRING_IN_DAYS = 20

DEMO_DRIVES = (
    {"name": "post-office", "label": "우체국 USB", "fs_type": "vfat", "size_bytes": 64 * 1024 * 1024},
    {"name": "locked", "label": "LOCKED", "fs_type": "vfat", "size_bytes": 32 * 1024 * 1024,
     "read_only": True},
)


def _line(drive: Drive) -> str:
    verdict = "eligible" if drive.eligible else f"unusable: {drive.reason} ({drive.reason_description})"
    size = f"{drive.size_bytes / 1e9:.1f} GB" if drive.size_bytes else "no media"
    product = " ".join(p for p in (drive.vendor, drive.model) if p) or "-"
    return f"{drive.device}\t{drive.fs_type or '-'}\t{size}\t{drive.label or '-'}\t{product}\t{verdict}"


def _print_changes(before: dict[str, Drive], after: dict[str, Drive], as_json: bool) -> None:
    changes = [("added", after[k]) for k in after.keys() - before.keys()]
    changes += [("removed", before[k]) for k in before.keys() - after.keys()]
    changes += [("changed", after[k]) for k in after.keys() & before.keys() if after[k] != before[k]]
    for kind, drive in changes:
        if as_json:
            click.echo(json.dumps({"event": kind, "drive": drive.as_json()}, ensure_ascii=False))
        else:
            click.echo(f"{kind}\t{_line(drive)}")


def _watch(manager: DriveManager, as_json: bool) -> None:
    seen = {drive.id: drive for drive in manager.drives()}

    def on_change(drives: list[Drive]) -> None:
        nonlocal seen
        current = {drive.id: drive for drive in drives}
        _print_changes(seen, current, as_json)
        seen = current

    manager.subscribe(on_change)
    click.echo(json.dumps({"event": "watching"}) if as_json else "watching (Ctrl-C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass


@click.command("drives")
@click.option("--json", "as_json", is_flag=True, help="a JSON list (with --watch: one JSON event per line)")
@click.option("--watch", is_flag=True, help="keep running and print drives as they come and go")
@click.option("--mountinfo", type=click.Path(path_type=Path), default=Path("/proc/self/mountinfo"),
              hidden=True, help="read mounts from this file (tests)")
def drives_command(as_json: bool, watch: bool, mountinfo: Path) -> None:
    """Every block device the kiosk considered, with eligibility and the reason."""
    from kiosk.commands import load_settings

    settings = load_settings()
    manager = DriveManager.from_backend(settings.drives_backend, settings.data_dir, mountinfo=mountinfo)
    manager.start()
    try:
        if watch:
            _watch(manager, as_json)
        elif as_json:
            click.echo(json.dumps([d.as_json() for d in manager.considered()], ensure_ascii=False, indent=2))
        else:
            for drive in manager.considered():
                click.echo(_line(drive))
    finally:
        manager.stop()


@click.group("demo-drives")
def demo_drives() -> None:
    """Plug demo sticks in and out (demo mode), to try every service without hardware."""


@demo_drives.command("insert")
@click.argument("name")
@click.option("--label", default=None, help="the stick's label (default: as before, or the name)")
@click.option("--read-only", is_flag=True, default=None, help="a write-protected stick")
@click.option("--size-mb", type=click.IntRange(1, 4096), default=None, help="its size (default: as before, or 64)")
@click.option("--expiring-certificate", is_flag=True,
              help=f"with a certificate of 홍길동 (password {DEMO_PASSWORD}) in its last month, to try 갱신")
def demo_insert(name: str, label: str | None, read_only: bool | None, size_mb: int | None,
                expiring_certificate: bool) -> None:
    """Plug the demo stick NAME in; a stick inserted before comes back as it was, files and all."""
    from kiosk.commands import load_settings

    settings = load_settings()
    if settings.drives_backend != "demo":
        raise click.ClickException("demo sticks need KIOSK_DRIVES=demo")
    try:
        before = _existing_demo_drive(settings.data_dir, name)
        drive = insert_demo_drive(
            settings.data_dir, name, label=label or (before.label if before else name),
            fs_type=before.fs_type if before else "vfat",
            size_bytes=size_mb * 1024 * 1024 if size_mb else (before.size_bytes if before else 64 << 20),
            read_only=read_only if read_only is not None else bool(before and before.read_only))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from exc
    if expiring_certificate:
        serial = _put_expiring_certificate(settings, drive)
        click.echo(f"wrote certificate {serial} of 홍길동, expiring in {EXPIRING_IN_DAYS} days")
    click.echo(f"inserted {drive.display_name} ({'eligible' if drive.eligible else drive.reason})")


def _put_expiring_certificate(settings, drive: Drive) -> str:
    """Issue 홍길동 a certificate dated back so that it expires in EXPIRING_IN_DAYS, through the kiosk's
    own pipeline, and write it to the stick as the kiosk did a year ago. Only the embedded CA itself can
    back-date (the responder signs at its own time), so this demo tool opens it in process, as the tester's
    user who owns `make run`'s CA directory: the kiosk never does."""
    from datetime import timedelta

    from hardware.write import write_bundle
    from kiosk.clock import ShiftedClock
    from kiosk.commands.pki import ca_store, embedded_ca
    from kiosk.identity.demo import DEMO_CUSTOMERS
    from kiosk.pii import customer_key
    from kiosk.pki.embedded import utcnow
    from kiosk.pki.issuance import Applicant, IssuanceService
    from kiosk.pki.profile import one_year_after
    from kiosk.pki.registry import Registry
    from kiosk.store import Store

    if not settings.is_demo or settings.ca_backend != "embedded":
        raise click.ClickException("--expiring-certificate needs demo mode and the embedded CA")
    now = utcnow()
    authority = embedded_ca(settings, ca_store(settings),
                            ShiftedClock(now + timedelta(days=EXPIRING_IN_DAYS) - one_year_after(now)))
    service = IssuanceService(authority, Registry(Store(settings.database_path)), settings.pki.ca_folder,
                              settings.pki.renewal_window)
    hong = DEMO_CUSTOMERS[0]
    prepared = service.prepare(Applicant(hong.name, hong.english_name, hong.rrn,
                                         customer_key(settings.customer_hash_key, hong.rrn)), DEMO_PASSWORD)
    write_bundle(Path(drive.sys_path) / "root", prepared.bundle.files, prepared.bundle.folder)
    service.mark_delivered(prepared.serial, drive.serial)
    return prepared.serial


def _existing_demo_drive(data_dir: Path, name: str) -> Drive | None:
    folder = demo_drives_dir(data_dir) / name
    plain = name.isascii() and "/" not in name and not name.startswith(".")
    return demo_drive(folder) if plain and (folder / "drive.json").is_file() else None


@demo_drives.command("remove")
@click.argument("name")
def demo_remove(name: str) -> None:
    """Pull the demo stick NAME out; its files go with it."""
    from kiosk.commands import load_settings

    settings = load_settings()
    try:
        remove_demo_drive(settings.data_dir, name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from exc
    click.echo(f"removed {name}")


def register(group: click.Group) -> None:
    group.add_command(drives_command)
    group.add_command(demo_drives)


def initialise(settings, store, demo: bool, echo) -> None:
    """With --demo and the demo backend: two demo drives, one usable and one write-protected."""
    if not demo or settings.drives_backend != "demo":
        return
    for spec in DEMO_DRIVES:
        drive = insert_demo_drive(settings.data_dir, **spec)
        verdict = "eligible" if drive.eligible else drive.reason
        echo(f"demo drive {spec['name']}: {drive.display_name} ({verdict})")
    echo(f"demo drives in {demo_drives_dir(settings.data_dir)}")

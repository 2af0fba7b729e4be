"""Certificates: the embedded CA in `kiosk init`, `kiosk selftest` and `kiosk ca show|revoke`."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk import pii
from kiosk.pki.bundle import CERT_FILE, KEY_FILE
from kiosk.pki.ca import REASONS, parse_serial
from kiosk.pki.embedded import EmbeddedCA, Profile
from kiosk.pki.errors import PkiError
from kiosk.pki.issuance import Applicant, IssuanceService
from kiosk.pki.rrn import parse_rrn
from kiosk.pki.verify import verify_bundle
from kiosk.settings import Settings
from kiosk.store import Store, StoreError

SELFTEST_DRIVE = "selftest"


def embedded_ca(settings: Settings, store: Store) -> EmbeddedCA:
    return EmbeddedCA(
        settings.data_dir / "ca",
        settings.ca_passphrase,
        store,
        Profile(settings.pki_base_url, settings.bank_code, settings.institution_code),
    )


def initialise(settings: Settings, store: Store, demo: bool, echo) -> None:
    """Create the embedded CA once (demo CA in demo mode); afterwards only check its passphrase."""
    if settings.ca_backend != "embedded":
        echo(f"certificate authority: {settings.ca_backend} (nothing to create here)")
        return
    ca = embedded_ca(settings, store)
    try:
        if not EmbeddedCA.exists(ca.directory):
            EmbeddedCA.create(ca.directory, settings.ca_passphrase, demo=settings.is_demo)
            verb = "created"
        else:
            verb = "present"
        ca.check_passphrase()
        ca.crl_der()
    except PkiError as exc:
        raise click.ClickException(str(exc)) from exc
    issuing = ca.summaries()[-1]
    kind = "demo " if ca.is_demo else ""
    echo(
        f"{kind}certificate authority {ca.directory}: {verb}, issuing CA valid {issuing.days_left} more days"
    )


def _open(settings: Settings) -> Store:
    store = Store(settings.database_path)
    try:
        store.check_current()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    return store


def _settings() -> Settings:
    from kiosk.commands import load_settings

    return load_settings()


def register(group: click.Group) -> None:
    group.add_command(selftest)
    group.add_command(ca)


@click.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="directory that receives NPKI/… (like a drive's root)",
)
@click.option("--name", required=True, help="the test identity's name (Hangul or Latin)")
@click.option("--english-name", default="", help="registered English name (optional)")
@click.option("--rrn", required=True, help="the test identity's resident registration number")
@click.option(
    "--password-file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="file holding the certificate password (one line)",
)
@click.option(
    "--allow-production-ca", is_flag=True, help="run against a production CA (issues a real certificate)"
)
def selftest(
    out_dir: Path, name: str, english_name: str, rrn: str, password_file: Path, allow_production_ca: bool
) -> None:
    """Issue a certificate for a test identity, write its bundle under --out, read it back and check it."""
    settings = _settings()
    store = _prepared_demo_store(settings) if settings.is_demo else _open(settings)
    production = not _is_test_ca(settings, store)
    if production and not allow_production_ca:
        raise click.ClickException(
            "selftest runs only against a demo CA; this kiosk uses a production CA (--allow-production-ca)"
        )
    password = password_file.read_text(encoding="utf-8").rstrip("\r\n")
    service = IssuanceService.from_settings(settings.pki, store)
    try:
        _run_selftest(service, settings, out_dir, name, english_name, rrn, password, production)
    except PkiError as exc:
        raise click.ClickException(f"selftest failed: {exc}") from exc


def _prepared_demo_store(settings: Settings) -> Store:
    """Demo mode: a fresh clone needs no `kiosk init` first; create the database and demo CA if missing."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = Store(settings.database_path)
    try:
        store.migrate()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    if settings.ca_backend == "embedded" and not EmbeddedCA.exists(settings.data_dir / "ca"):
        initialise(settings, store, True, click.echo)
    return store


def _is_test_ca(settings: Settings, store: Store) -> bool:
    if settings.ca_backend != "embedded" or not settings.is_demo:
        return False
    try:
        return embedded_ca(settings, store).is_demo
    except PkiError as exc:
        raise click.ClickException(str(exc)) from exc


def _run_selftest(
    service: IssuanceService,
    settings: Settings,
    out_dir: Path,
    name: str,
    english_name: str,
    rrn: str,
    password: str,
    production: bool,
) -> None:
    idn = parse_rrn(rrn).digits
    applicant = Applicant(name, english_name, idn, pii.customer_key(settings.customer_hash_key, idn))
    prepared = service.prepare(applicant, password)
    try:
        for relative, data in prepared.bundle.files:
            target = out_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        chain_path = out_dir / "ca-chain.pem"
        chain_path.write_bytes(service.ca_chain_pem())
        folder = out_dir / prepared.bundle.folder
        check = verify_bundle(
            (folder / CERT_FILE).read_bytes(),
            (folder / KEY_FILE).read_bytes(),
            password,
            idn=idn,
            chain_pem=chain_path.read_bytes(),
        )
    except (PkiError, OSError):
        service.abandon(prepared.serial)
        raise
    service.mark_delivered(prepared.serial, SELFTEST_DRIVE)
    click.echo(f"bundle:   {folder}")
    click.echo(f"chain:    {chain_path}")
    click.echo(f"serial:   {prepared.serial}")
    click.echo(f"subject:  {prepared.subject_dn}")
    click.echo(f"valid:    {prepared.not_before:%Y-%m-%d} – {prepared.not_after:%Y-%m-%d}")
    click.echo(
        f"checked:  key opens with the password, matches the certificate, VID "
        f"{'matches' if check.vid_matches else 'NOT checked'}, signed by {check.issuer}"
    )
    if production:
        service.revoke(prepared.serial, "cessationOfOperation")
        click.echo("revoked:  the test certificate (production CA)")


@click.group()
def ca() -> None:
    """The embedded certificate authority."""


@ca.command("show")
def ca_show() -> None:
    """Print the root and issuing CA and the days each has left."""
    settings = _settings()
    if settings.ca_backend != "embedded":
        raise click.ClickException(f"KIOSK_CA={settings.ca_backend}: the CA is not on this kiosk")
    authority = embedded_ca(settings, _open(settings))
    try:
        authority.check_passphrase()
        summaries = authority.summaries()
    except PkiError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{'demo ' if authority.is_demo else ''}CA in {authority.directory}")
    for item in summaries:
        click.echo(f"{item.role:8} {item.subject}")
        click.echo(
            f"         serial {item.serial}, valid until {item.not_after:%Y-%m-%d} "
            f"({item.days_left} days left)"
        )


@ca.command("revoke")
@click.argument("serial")
@click.option("--reason", required=True, type=click.Choice(list(REASONS)), help="RFC 5280 reason")
def ca_revoke(serial: str, reason: str) -> None:
    """Revoke a certificate and publish a new CRL."""
    settings = _settings()
    service = IssuanceService.from_settings(settings.pki, _open(settings))
    try:
        normalised = parse_serial(serial)
        service.revoke(normalised, reason)
    except PkiError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked {normalised} ({reason}); CRL published")

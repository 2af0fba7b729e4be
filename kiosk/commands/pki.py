"""Certificates: the embedded CA in `kiosk init`, `kiosk selftest` and `kiosk ca show|revoke`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from kiosk import logs, pii
from kiosk.clock import Clock
from kiosk.pki.bundle import CERT_FILE, KEY_FILE
from kiosk.pki.ca import REASONS, parse_serial
from kiosk.pki.embedded import EmbeddedCA, Profile
from kiosk.pki.embedded.ca import CRL_FILE
from kiosk.pki.embedded.ca import FILES as CA_FILES
from kiosk.pki.errors import PkiError
from kiosk.pki.issuance import Applicant, IssuanceService
from kiosk.pki.rrn import parse_rrn
from kiosk.pki.verify import verify_bundle
from kiosk.sdnotify import NOTIFY_VARIABLES, sd_notify
from kiosk.settings import Settings
from kiosk.store import Store, StoreError

SELFTEST_DRIVE = "selftest"
LEDGER = "ledger.sqlite"


def embedded_ca(settings: Settings, store: Store, clock: Clock | None = None) -> EmbeddedCA:
    """`clock` dates what it signs: the real one, or a `ShiftedClock` to back-date (kiosk.clock)."""
    return EmbeddedCA(
        settings.pki.ca_dir,
        settings.ca_passphrase,
        store,
        Profile(settings.pki_base_url, settings.bank_code, settings.institution_code),
        clock=clock,
    )


def initialise(settings: Settings, store: Store, demo: bool, echo) -> None:
    """Create the embedded CA once (demo CA in demo mode); afterwards only check its passphrase. A CA
    directory outside the data directory belongs to the CA's own unit, which runs `kiosk ca init`."""
    if settings.ca_backend != "embedded":
        echo(f"certificate authority: {settings.ca_backend} (nothing to create here)")
        return
    if not settings.pki.ca_dir.is_relative_to(settings.data_dir):
        echo(f"certificate authority {settings.pki.ca_dir}: kept by its own process (kiosk ca init)")
        return
    initialise_ca(settings, echo)


def initialise_ca(settings: Settings, echo) -> None:
    directory = settings.pki.ca_dir
    try:
        if not EmbeddedCA.exists(directory):
            EmbeddedCA.create(directory, settings.ca_passphrase, demo=settings.is_demo)
            verb = "created"
        else:
            verb = "present"
        ca = embedded_ca(settings, ca_store(settings))
        ca.check_passphrase()
        ca.crl_der()
    except PkiError as exc:
        raise click.ClickException(str(exc)) from exc
    issuing = ca.summaries()[-1]
    kind = "demo " if ca.is_demo else ""
    echo(
        f"{kind}certificate authority {ca.directory}: {verb}, issuing CA valid {issuing.days_left} more days"
    )


def _check_database(settings: Settings) -> None:
    """The kiosk's database exists and is current (`kiosk init` ran): a command never creates it."""
    store = Store(settings.database_path)
    try:
        store.check_current()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()


def kiosk_issuance(settings: Settings) -> IssuanceService:
    """Issuance through the CA adapter the kiosk itself would use (kiosk.wiring), built, not started."""
    from kiosk.wiring import build

    return build(settings).issuance


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
    if settings.is_demo:
        _prepare_demo(settings)
    else:
        _check_database(settings)
    production = not _is_test_ca(settings)
    if production and not allow_production_ca:
        raise click.ClickException(
            "selftest runs only against a demo CA; this kiosk uses a production CA (--allow-production-ca)"
        )
    password = password_file.read_text(encoding="utf-8").rstrip("\r\n")
    with reachable_ca(settings) as reached:
        service = kiosk_issuance(reached)
        try:
            _run_selftest(service, settings, out_dir, name, english_name, rrn, password, production)
        except PkiError as exc:
            raise click.ClickException(f"selftest failed: {exc}") from exc


def _prepare_demo(settings: Settings) -> None:
    """Demo mode: a fresh clone needs no `kiosk init` first; create the database and demo CA if missing."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = Store(settings.database_path)
    try:
        store.migrate()
        if settings.ca_backend == "embedded" and not EmbeddedCA.exists(settings.data_dir / "ca"):
            initialise(settings, store, True, click.echo)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()


def _is_test_ca(settings: Settings) -> bool:
    if settings.ca_backend != "embedded" or not settings.is_demo:
        return False
    try:
        return embedded_ca(settings, ca_store(settings)).is_demo
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
    authority = embedded_ca(settings, ca_store(settings))
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


@ca.command("init")
def ca_init() -> None:
    """Create the embedded CA and its ledger once (idempotent), then check its passphrase; the CA's unit
    runs it before `kiosk ca serve`."""
    settings = _settings()
    if settings.ca_backend != "embedded":
        raise click.ClickException(f"KIOSK_CA={settings.ca_backend}: the CA is not on this kiosk")
    initialise_ca(settings, click.echo)


@ca.command("adopt")
@click.argument("old_data_dir", type=click.Path(file_okay=False, path_type=Path))
def ca_adopt(old_data_dir: Path) -> None:
    """Take over the embedded CA of a kiosk from before the CA had its own unit: its keys and certificates
    from OLD_DATA_DIR/ca, and its ledger (every serial signed, every revocation, the CRL number) from
    OLD_DATA_DIR/kiosk.sqlite3, into KIOSK_CA_DIR; then remove the old copy, which the kiosk's user could
    read. Idempotent: a CA already in KIOSK_CA_DIR is kept and nothing is adopted. The package's postinst
    runs it on upgrade (docs/operations.md)."""
    settings = _settings()
    old_ca, new_ca = old_data_dir / "ca", settings.pki.ca_dir
    if EmbeddedCA.exists(new_ca):
        click.echo(f"certificate authority {new_ca}: present, nothing adopted")
        return
    if not EmbeddedCA.exists(old_ca):
        raise click.ClickException(f"no embedded CA in {old_ca} to adopt")
    try:
        adopted = adopt_ca(settings, old_ca, old_data_dir / "kiosk.sqlite3")
    except (PkiError, StoreError, OSError) as exc:
        raise click.ClickException(f"kiosk ca adopt: {exc} ({old_ca} is left as it was)") from exc
    shutil.rmtree(old_ca)
    logs.event("ca.adopted", source=str(old_ca), directory=str(new_ca), **adopted)
    click.echo(f"certificate authority {new_ca}: adopted from {old_ca}, {adopted['certificates']} "
               f"certificates ({adopted['revoked']} revoked); {old_ca} removed")


def adopt_ca(settings: Settings, old_ca: Path, old_database: Path) -> dict[str, int]:
    """Copy the CA's files, build its ledger from the old database's rows, publish a CRL from it and check
    the passphrase; the new directory is removed again if any of that fails."""
    new_ca = settings.pki.ca_dir
    new_ca.mkdir(parents=True, mode=0o750, exist_ok=True)
    try:
        for name in (*CA_FILES, CRL_FILE):
            if (old_ca / name).is_file():
                shutil.copy2(old_ca / name, new_ca / name)
                os.chmod(new_ca / name, 0o600 if name.endswith(".key.pem") else 0o640)
        ledger = ca_store(settings)
        if old_database.is_file():
            _copy_ledger_rows(ledger, old_database)
        authority = embedded_ca(settings, ledger)
        authority.check_passphrase()
        authority.crl_der()
    except BaseException:
        shutil.rmtree(new_ca, ignore_errors=True)
        raise
    row = ledger.query_one("SELECT count(*) AS certificates, count(revoked_at) AS revoked FROM embedded_ca_issued")
    return {"certificates": row["certificates"], "revoked": row["revoked"]}


def _copy_ledger_rows(ledger: Store, old_database: Path) -> None:
    """Read the old rows from a private copy: opening the kiosk's own database here (as root, in postinst)
    would leave root's WAL files beside it, which the kiosk's user could not open."""
    with tempfile.TemporaryDirectory() as private:
        for suffix in ("", "-wal"):
            if Path(f"{old_database}{suffix}").is_file():
                shutil.copyfile(f"{old_database}{suffix}", Path(private) / f"old.sqlite3{suffix}")
        old = Store(Path(private) / "old.sqlite3")
        try:
            issued = old.query_all("SELECT serial, cn_number, not_after, issued_at, revoked_at, "
                                   "revocation_reason FROM embedded_ca_issued")
            numbers = old.query_all("SELECT id, crl_number FROM embedded_ca_crl")
        finally:
            old.close()
    with ledger.transaction() as conn:
        conn.executemany("INSERT OR IGNORE INTO embedded_ca_issued (serial, cn_number, not_after, issued_at, "
                         "revoked_at, revocation_reason) VALUES (?, ?, ?, ?, ?, ?)", [tuple(r) for r in issued])
        conn.executemany("INSERT OR REPLACE INTO embedded_ca_crl (id, crl_number) VALUES (?, ?)",
                         [tuple(r) for r in numbers])


@ca.command("serve")
@click.option("--listen", help="loopback address:port of the CMP responder (default KIOSK_CA_LISTEN)")
@click.option("--hold-seconds", type=click.FloatRange(0, 60), default=0,
              help="answer 'waiting' and deliver on polling after this long (demonstrates pollReq)")
def ca_serve(listen: str | None, hold_seconds: float) -> None:
    """Answer CMP (RFC 4210 over HTTP, RFC 6712) with the embedded CA until stopped (SIGTERM)."""
    from kiosk.pki.cmp.serving import CmpHttpServer

    settings = _settings()
    logs.setup(settings.log_level)
    host, _, port = (listen or settings.ca_listen).rpartition(":")
    try:
        server = CmpHttpServer(responder(settings, hold_seconds), host.strip("[]") or "127.0.0.1", int(port))
    except (PkiError, ValueError, OSError) as exc:
        raise click.ClickException(f"kiosk ca serve: {exc}") from exc
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.httpd.shutdown).start())
    server.responder.refresh_crl()
    threading.Thread(target=_refresh_crl_hourly, args=(server.responder,), daemon=True).start()
    # bound and listening: the kiosk's unit (After=cert-kiosk-ca.service) starts only now (Type=notify)
    sd_notify(f"READY=1\nSTATUS=answering CMP on {server.url}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sd_notify("STOPPING=1")
        server.httpd.server_close()
        logs.event("ca.stopped")


def _refresh_crl_hourly(responder) -> None:
    """The kiosk relays crl.der as the CA last wrote it: keep it fresh (a new one a day before nextUpdate)."""
    while True:
        time.sleep(3600)
        responder.refresh_crl()


def ca_store(settings: Settings) -> Store:
    """The CA's own ledger (serials, revocations, CRL numbers) beside its keys: only the CA's process
    reads and writes it (docs/security.md)."""
    path = settings.pki.ca_dir / LEDGER
    if not path.exists():  # 0600 from its first byte, whatever the umask (the CA's directory is 0750)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    store = Store(path)
    store.migrate()
    return store


@contextmanager
def reachable_ca(settings: Settings) -> Iterator[Settings]:
    """The settings under which the CA answers. With KIOSK_CA=embedded a technician's command (selftest,
    ca revoke) runs where the CA's keys are readable; when no `kiosk ca serve` answers at KIOSK_CA_LISTEN
    (a fresh demo clone, the service stopped) a responder runs in this process for the command's length."""
    host, _, port = settings.ca_listen.rpartition(":")
    if settings.ca_backend != "embedded" or _answers(host, int(port)):
        yield settings
        return
    from kiosk.pki.cmp.serving import CmpHttpServer

    try:
        server = CmpHttpServer(responder(settings)).start()
    except PkiError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield settings.with_overrides(ca_listen=f"127.0.0.1:{server.port}")
    finally:
        server.stop()


@contextmanager
def demo_ca_process(settings: Settings) -> Iterator[None]:
    """`kiosk serve` in demo mode (`make run`) starts the CA's process beside it when none answers at
    KIOSK_CA_LISTEN, and stops it when it stops (a child killed with its parent: PR_SET_PDEATHSIG). In
    production the CA is its own unit (cert-kiosk-ca.service) and nothing is started here."""
    host, _, port = settings.ca_listen.rpartition(":")
    own_unit = not settings.pki.ca_dir.is_relative_to(settings.data_dir)  # cert-kiosk-ca.service's CA
    if not settings.is_demo or settings.ca_backend != "embedded" or own_unit or _answers(host, int(port)):
        yield
        return
    if not EmbeddedCA.exists(settings.pki.ca_dir):  # the kiosk serves; issuing says the CA is not there
        logs.warning("ca.not_started", reason=f"no embedded CA in {settings.pki.ca_dir}: run `kiosk init`")
        yield
        return
    child_env = {name: value for name, value in os.environ.items() if name not in NOTIFY_VARIABLES}
    child = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "ca", "serve"], env=child_env,
                             preexec_fn=_die_with_parent)
    logs.event("ca.started", pid=child.pid, listen=settings.ca_listen)
    try:
        deadline = time.monotonic() + 60
        while not _answers(host, int(port)):
            if child.poll() is not None or time.monotonic() > deadline:
                raise click.ClickException(f"`kiosk ca serve` did not start (exit {child.poll()})")
            time.sleep(0.1)
        yield
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _die_with_parent() -> None:
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _answers(host: str, port: int) -> bool:
    try:
        socket.create_connection((host.strip("[]"), port), timeout=1).close()
    except OSError:
        return False
    return True


def responder(settings: Settings, hold_seconds: float = 0, signer=None, clock: Clock | None = None):
    """The CMP responder on this kiosk's embedded CA, accepting the demo registration agent's codes;
    `signer` (certificate, key) replaces the CMP signer made at start (tests share one per session);
    `clock` dates what the CA signs (tests back-date with a `ShiftedClock`)."""
    from kiosk.pki.cmp.registration import DemoRegistrationAgent
    from kiosk.pki.cmp.server import CmpResponder, SecretBook

    authority = embedded_ca(settings, ca_store(settings), clock)  # opening the issuing key checks the passphrase
    return CmpResponder(authority, SecretBook(DemoRegistrationAgent()), hold_seconds=hold_seconds,
                        signer=signer)


@ca.command("revoke")
@click.argument("serial")
@click.option("--reason", required=True, type=click.Choice(list(REASONS)), help="RFC 5280 reason")
def ca_revoke(serial: str, reason: str) -> None:
    """Revoke a certificate and publish a new CRL."""
    settings = _settings()
    _check_database(settings)
    with reachable_ca(settings) as reached:
        service = kiosk_issuance(reached)
        try:
            normalised = parse_serial(serial)
            service.revoke(normalised, reason)
        except PkiError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked {normalised} ({reason}); CRL published")

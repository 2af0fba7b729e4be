"""The kiosk's self-checks, one function per thing a technician can fix, used by `kiosk doctor` and /healthz.

Each check takes the kiosk's parts as `kiosk.wiring.build` chose them (built, never started: the CLI
checks without serving, /healthz with the server's own parts), so the doctor probes the very adapter the
kiosk would talk to. Each returns a `Check`: a name, ok or not, what was found, and — when it failed —
the fix in the words of the technician's runbook (docs/operations.md). A check never raises for the
condition it checks; it reports it. The browser's check is the screen's (kiosk.health.screen).
"""

from __future__ import annotations

import shutil
import smtplib
import sqlite3
import ssl
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from kiosk.health.check import TIMEOUT, Check, run_command
from kiosk.health.screen import check_screen
from kiosk.identity.smtp import SmtpCodeSender, within
from kiosk.pki import embedded
from kiosk.pki.errors import CaError
from kiosk.settings import ConfigurationError, Settings
from kiosk.store import Store, StoreError, migrations

if TYPE_CHECKING:
    from kiosk.pki.cmp import CmpConfig
    from kiosk.wiring import Kiosk

CA_MIN_DAYS_LEFT = 30
MIN_FREE_BYTES = 100 * 1024 * 1024
EARLIEST_YEAR = 2025
UDISKS2_NAME = "org.freedesktop.UDisks2"
CMP_FILES_FIX = "set KIOSK_CMP_CA_CERTS and KIOSK_CMP_KEK_CERT to the files the bank supplied (docs/cmp.md)"


def ca_path(settings: Settings, filename: str) -> Path:
    return settings.pki.ca_dir / filename


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _load_certificate(path: Path):
    from cryptography import x509

    return x509.load_pem_x509_certificate(path.read_bytes())


# --- the checks -----------------------------------------------------------------------------------------


def check_database(kiosk: Kiosk) -> Check:
    """Opens the database without creating it, checks the schema is current and that a write lock can be
    taken (a data directory owned by another user, or mounted read-only, fails here and not mid-issuance)."""
    settings = kiosk.settings
    path = settings.database_path
    if not path.exists():
        return Check("database", False, f"{path} does not exist", "run `kiosk init`")
    store = Store(path, busy_timeout_ms=2000)
    try:
        store.check_current()
        conn = store.connect()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        if store.newer_than_code:
            return Check("database", True, f"{path} schema {store.version}, newer than this release's "
                         f"{migrations()[-1][0]} (a rollback: the migrations are additive), writable")
        return Check("database", True, f"{path} schema {store.version}, writable")
    except StoreError as exc:
        return Check("database", False, str(exc), "run `kiosk init`")
    except sqlite3.Error as exc:
        return Check("database", False, f"{path} is not writable: {exc}",
                     f"give the kiosk user write access to {settings.data_dir} and its files "
                     "(`systemd-tmpfiles --create`), or free the disk; see docs/operations.md")
    finally:
        store.close()


def cmp_config(kiosk: Kiosk) -> CmpConfig | None:
    """The bank CA's configuration the kiosk's CMP adapter was built with; None with the embedded CA (whose
    LocalCA speaks CMP too, but whose files the checks read where they lie)."""
    from kiosk.pki.cmp import CmpCA
    from kiosk.pki.cmp.local import LocalCA

    adapter = kiosk.issuance.ca.measured
    return adapter.config if isinstance(adapter, CmpCA) and not isinstance(adapter, LocalCA) else None


def check_ca(kiosk: Kiosk) -> Check:
    """Both CA certificates exist, the issuing CA is signed by the root, and both are valid for a while.
    With KIOSK_CA=cmp: the CA and key-encryption certificates the bank supplied are, instead."""
    from cryptography.exceptions import InvalidSignature

    if config := cmp_config(kiosk):
        bank = {"CA": config.issuing, "key-encryption certificate": config.kek_certificate}
        return _valid_for_a_while(bank, "ask the bank for the CA's renewed certificates (docs/cmp.md)")
    settings = kiosk.settings
    paths = [ca_path(settings, embedded.ROOT_CERTIFICATE), ca_path(settings, embedded.ISSUING_CERTIFICATE)]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        return Check("ca", False, f"missing {', '.join(missing)}",
                     "run `kiosk init` (creates the embedded CA)")
    try:
        root, issuing = (_load_certificate(p) for p in paths)
        issuing.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature) as exc:
        return Check("ca", False, f"unreadable or not issued by the root: {exc}",
                     "restore the CA from backup or re-run `kiosk init`; see docs/operations.md")
    return _valid_for_a_while({"root CA": root, "issuing CA": issuing}, "renew the CA")


def _valid_for_a_while(certificates: dict, renew: str) -> Check:
    """Each certificate valid now and for CA_MIN_DAYS_LEFT more days; the detail names the first to expire."""
    now = _now()
    for label, cert in certificates.items():
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            return Check("ca", False, f"{label} not valid now ({cert.not_valid_before_utc:%Y-%m-%d} to "
                         f"{cert.not_valid_after_utc:%Y-%m-%d})", f"check the clock; {renew}")
    label, first = min(certificates.items(), key=lambda item: item[1].not_valid_after_utc)
    days_left = (first.not_valid_after_utc - now).days
    detail = f"{label} valid until {first.not_valid_after_utc:%Y-%m-%d}, {days_left} days left"
    if days_left < CA_MIN_DAYS_LEFT:
        return Check("ca", False, detail, f"{renew} before it expires (less than {CA_MIN_DAYS_LEFT} days left)")
    return Check("ca", True, detail)


def check_crl(kiosk: Kiosk) -> Check:
    """The CRL the kiosk publishes is signed by the issuing CA and its nextUpdate is still ahead.
    With KIOSK_CA=cmp: the CA's CRL that the kiosk relays from KIOSK_CMP_CRL_URL, when one is set."""
    from cryptography import x509

    if config := cmp_config(kiosk):
        return _check_cmp_crl(config)
    settings = kiosk.settings
    path = ca_path(settings, embedded.CRL_FILE)
    if not path.exists():
        return Check("crl", False, f"{path} does not exist", "run `kiosk init` (publishes the CRL)")
    try:
        crl = x509.load_der_x509_crl(path.read_bytes())
        issuing = _load_certificate(ca_path(settings, embedded.ISSUING_CERTIFICATE))
    except (ValueError, OSError) as exc:
        return Check("crl", False, f"unreadable: {exc}", "run `kiosk init` (re-signs the CRL)")
    return _current_crl(crl, issuing, "run `kiosk init` (re-signs the CRL)")


def _check_cmp_crl(config: CmpConfig) -> Check:
    from cryptography import x509

    from kiosk.pki.cmp import fetch_crl

    if not config.crl_url:
        return Check("crl", True, "published by the CA itself (no KIOSK_CMP_CRL_URL to relay)")
    try:
        crl = x509.load_der_x509_crl(fetch_crl(config, TIMEOUT))
    except CaError as exc:
        return Check("crl", False, str(exc), "check KIOSK_CMP_CRL_URL in /etc/cert-kiosk/kiosk.env and the network")
    return _current_crl(crl, config.issuing, "the CA's CRL is stale or foreign: call the bank's CA desk")


def _current_crl(crl, issuing, fix: str) -> Check:
    if not crl.is_signature_valid(issuing.public_key()):
        return Check("crl", False, "not signed by the issuing CA", fix)
    next_update = crl.next_update_utc
    if next_update is None or next_update <= _now():
        return Check("crl", False, f"stale: nextUpdate {next_update:%Y-%m-%d %H:%M} UTC has passed"
                     if next_update else "no nextUpdate", fix)
    return Check("crl", True, f"next update {next_update:%Y-%m-%d %H:%M} UTC")


def check_cmp(kiosk: Kiosk) -> Check:
    """KIOSK_CA=cmp: the CA answers an unauthenticated CMP probe (genm) at KIOSK_CMP_URL. It proves the
    network path, TLS and a CMP server there; the bank's credentials are only proven by an issuance."""
    from kiosk.pki.cmp import probe

    config = cmp_config(kiosk)
    if config is None:
        return Check("cmp", True, "not used (KIOSK_CA=embedded)")
    try:
        answer = probe(config, TIMEOUT)
    except CaError as exc:
        return Check("cmp", False, str(exc),
                     "check KIOSK_CMP_URL in /etc/cert-kiosk/kiosk.env, the network and the bank's CA service")
    return Check("cmp", True, f"{config.url} answers CMP ({answer})")


def check_smtp(kiosk: Kiosk) -> Check:
    """Connects and greets the SMTP server (no login, no mail): the e-mail code step depends on it."""
    sender = kiosk.code_sender
    if not isinstance(sender, SmtpCodeSender):
        return Check("smtp", True, "demo outbox (no KIOSK_SMTP_URL)")
    where = f"{sender.host}:{sender.port}"
    try:
        if sender.scheme == "smtps":
            client = smtplib.SMTP_SSL(timeout=TIMEOUT, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(timeout=TIMEOUT)
        with within(client, TIMEOUT), client:  # a dripping server cannot hold /healthz longer
            client.connect(sender.host, sender.port)
            code, _ = client.noop()
    except (OSError, smtplib.SMTPException) as exc:
        return Check("smtp", False, f"{where} unreachable: {exc}",
                     "check KIOSK_SMTP_URL in /etc/cert-kiosk/kiosk.env, the network and the mail server")
    if code != 250:
        return Check("smtp", False, f"{where} answered NOOP with {code}", "check the mail server")
    return Check("smtp", True, f"{where} answers")


def check_udev(kiosk: Kiosk) -> Check:
    """pyudev can open the netlink monitor the drive watcher listens on (hot-plug needs it)."""
    import pyudev

    try:
        monitor = pyudev.Monitor.from_netlink(pyudev.Context())
        monitor.start()
    except (OSError, ImportError) as exc:
        return Check("udev", False, f"cannot open the udev monitor: {exc}",
                     "is systemd-udevd running? the unit must allow AF_NETLINK")
    return Check("udev", True, "netlink monitor opens")


def check_udisks2(kiosk: Kiosk) -> Check:
    """With KIOSK_DRIVES=udisks2 (production, or a demo on real hardware) the drives are mounted by udisks2
    over the system bus; a ping also starts it."""
    settings = kiosk.settings
    if settings.drives_backend != "udisks2":
        return Check("udisks2", True, f"not used (drives: {settings.drives_backend})")
    command = ["busctl", "--system", "call", UDISKS2_NAME, "/org/freedesktop/UDisks2",
               "org.freedesktop.DBus.Peer", "Ping"]
    failed = run_command(command)
    if failed:
        return Check("udisks2", False, f"{UDISKS2_NAME} not reachable on the system bus: {failed}",
                     "apt-get install udisks2; systemctl status udisks2 dbus")
    return Check("udisks2", True, f"{UDISKS2_NAME} answers on the system bus")


def check_browser(kiosk: Kiosk) -> Check:
    """The touchscreen's browser runs and the page it shows reports in (kiosk.health.screen)."""
    return check_screen(kiosk.settings)


def check_clock(kiosk: Kiosk) -> Check:
    """A clock in the past makes every certificate issued look not-yet-valid (and the CA check lie)."""
    settings = kiosk.settings
    now = _now()
    if now.year < EARLIEST_YEAR:
        return Check("clock", False, f"system time {now:%Y-%m-%d} is before {EARLIEST_YEAR}",
                     "enable time sync: timedatectl set-ntp true")
    issuing = ca_path(settings, embedded.ISSUING_CERTIFICATE)
    if issuing.exists():
        try:
            not_before = _load_certificate(issuing).not_valid_before_utc
        except ValueError:
            not_before = None  # the ca check reports the unreadable file
        if not_before and now < not_before:
            return Check("clock", False, f"system time {now:%Y-%m-%d %H:%M} is before the CA's notBefore "
                         f"{not_before:%Y-%m-%d %H:%M}", "enable time sync: timedatectl set-ntp true")
    return Check("clock", True, f"{now:%Y-%m-%d %H:%M} UTC")


def check_disk(kiosk: Kiosk) -> Check:
    """SQLite and the CA need room; a full disk fails the issuance after the customer has typed it all."""
    settings = kiosk.settings
    try:
        free = shutil.disk_usage(settings.data_dir).free
    except OSError as exc:
        return Check("disk", False, f"{settings.data_dir}: {exc}", "run `kiosk init`")
    detail = f"{free // (1024 * 1024)} MB free in {settings.data_dir}"
    if free < MIN_FREE_BYTES:
        return Check("disk", False, detail, "free disk space (journalctl --vacuum-size=200M, old files)")
    return Check("disk", True, detail)


def check_printer(kiosk: Kiosk) -> Check:
    """The receipt printer is optional: absent or not configured is reported, never a failure (the
    customer gets the receipt by e-mail instead; a print that fails logs receipt.print_failed)."""
    printer = kiosk.receipts.printer
    if not printer.configured:
        return Check("printer", True, "not configured (KIOSK_PRINTER=none): receipts by e-mail only")
    where = printer.locate()
    if where is None:
        return Check("printer", True, f"absent: {printer.description} is not plugged in "
                     "(receipts by e-mail only until it is; docs/operations.md)")
    return Check("printer", True, f"present: {printer.description} at {where}")


CHECKS: list[Callable[[Kiosk], Check]] = [
    check_database, check_ca, check_crl, check_cmp, check_smtp, check_udev, check_udisks2, check_browser,
    check_clock, check_disk, check_printer,
]


def run(kiosk: Kiosk) -> list[Check]:
    """Every check against a built kiosk, in a stable order (configuration first, as it passed)."""
    settings = kiosk.settings
    checks = [Check("configuration", True, f"mode {settings.mode}, data {settings.data_dir}")]
    return checks + [check(kiosk) for check in CHECKS]


def run_from_env() -> list[Check]:
    """What `kiosk doctor` runs: the kiosk built as the server would build it, started not. With invalid
    settings, or CA files the kiosk could not start with, nothing else can be checked: that is the answer."""
    from kiosk.wiring import build

    try:
        kiosk = build(Settings.from_env())
    except ConfigurationError as exc:
        return [Check("configuration", False, str(exc), "edit /etc/cert-kiosk/kiosk.env (docs/install.md)")]
    except CaError as exc:  # KIOSK_CA=cmp naming files that cannot be read
        return [Check("configuration", False, str(exc), CMP_FILES_FIX)]
    return run(kiosk)


def report(checks: list[Check]) -> dict:
    """The JSON shape shared by `kiosk doctor --json` and /healthz."""
    return {"ok": all(c.ok for c in checks), "checks": [c.as_dict() for c in checks]}

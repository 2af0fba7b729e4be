"""One `Settings` object, read from the environment (`KIOSK_*`) once at start-up and validated.

Each setting is declared once, as a field of `Settings` made by `variable(...)`: its environment name,
its default, its meaning and its rule (choices, bounds). `from_env`, the validation of those rules, the
README's configuration table (`readme_table`, compared with README.md by tests/unit/test_settings.py) and
the settings handed to the PKI (`Settings.pki`) are all derived from that declaration.

Demo mode has safe defaults for everything, so that `make run` works on a fresh machine; production mode
refuses to start while any demo secret is still in place and says which setting is missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from kiosk.pki.config import CmpSettings, PkiSettings

DEMO_SECRET_KEY = "demo-secret-key-not-for-production"
DEMO_CA_PASSPHRASE = "demo-ca-passphrase-not-for-production"
DEMO_CUSTOMER_HASH_KEY = "demo-customer-hash-key-not-for-production"

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# where the drive step's picture shows the kiosk's USB port (templates/pictures/usb_port.svg.html): the
# model's front ledge under the screen (left, centre, right) or one of its sides, at hand height
USB_PORT_POSITIONS = ("front-left", "front-center", "front-right", "side-left", "side-right")
# Korea Post's internet banking, where a certificate is used and renewed; the receipt's QR code points here
DEFAULT_RECEIPT_HELP_URL = "https://www.epostbank.go.kr/"


class ConfigurationError(Exception):
    """A setting is missing or unsafe; the message names the setting and what to do."""


@dataclass(frozen=True)
class Variable:
    """How one setting is read and documented. `depends` computes the default from the mode and the
    settings read before it (the data dir, the drives backend, the PKI base URL); `shown` is the README's
    wording of the default where the value itself would mislead (secrets, mode-dependent defaults)."""

    env: str
    meaning: str
    shown: str | None = None
    choices: tuple[str, ...] = ()
    bounds: tuple[int, int] | None = None
    depends: Callable[[dict[str, Any]], Any] | None = None
    to_pki: tuple[str, ...] = ()   # "ca_folder" → PkiSettings.ca_folder, "cmp.url" → CmpSettings.url


def variable(env: str, default: Any, meaning: str, **rule: Any) -> Any:
    return field(default=default, metadata={"variable": Variable(env, meaning, **rule)})


def _default_data_dir(read: dict[str, Any]) -> Path:
    return PROJECT_ROOT / "var" if read["mode"] == "demo" else Path("/var/lib/cert-kiosk")


@dataclass(frozen=True)
class Settings:
    mode: str = variable(
        "KIOSK_MODE", "demo", "`demo` (demo customers, demo drives, local outbox) or `production`, which "
        "refuses every demo secret", choices=("demo", "production"))
    data_dir: Path = variable(
        "KIOSK_DATA_DIR", PROJECT_ROOT / "var", "all state: SQLite database, CA keys, CRL, demo drives",
        shown="./var (demo), /var/lib/cert-kiosk (production)", depends=_default_data_dir)
    host: str = variable("KIOSK_HOST", "127.0.0.1", "address the WSGI server listens on")
    port: int = variable("KIOSK_PORT", 8080, "port the WSGI server listens on", bounds=(1, 65535))
    threads: int = variable(
        "KIOSK_THREADS", 16, "worker threads; drive-list SSE streams hold at most a quarter of them "
        "(2 per address), a new stream ends the oldest", bounds=(1, 256))
    secret_key: str = variable(
        "KIOSK_SECRET_KEY", DEMO_SECRET_KEY, "signs the session cookie and CSRF tokens; required in "
        "production", shown="demo value")
    screen_key: str = variable(
        "KIOSK_SCREEN_KEY", "", "secret the kiosk's own browser presents once "
        "(`/healthz/screen/enrol?key=…`, its start URL): then only that browser's screen reports count "
        "(docs/operations.md)", shown="(empty: any client's screen report counts)")
    customer_hash_key: str = variable(
        "KIOSK_CUSTOMER_HASH_KEY", DEMO_CUSTOMER_HASH_KEY, "key of the keyed hash that names customers in "
        "the registry and audit log", shown="demo value")
    ca_backend: str = variable(
        "KIOSK_CA", "embedded", "`embedded` CA under the data dir, or `cmp` to a real CA",
        choices=("embedded", "cmp"), to_pki=("ca_backend",))
    ca_passphrase: str = variable(
        "KIOSK_CA_PASSPHRASE", DEMO_CA_PASSPHRASE, "encrypts the embedded CA's private keys on disk; "
        "required in production", shown="demo value", to_pki=("ca_passphrase",))
    ca_dir: str = variable(
        "KIOSK_CA_DIR", "", "the embedded CA's directory: its keys (readable by its own process alone), "
        "certificates, CRL and ledger; the kiosk reads chain.pem and crl.der there", shown="$KIOSK_DATA_DIR/ca")
    ca_listen: str = variable(
        "KIOSK_CA_LISTEN", "127.0.0.1:8829", "with `KIOSK_CA=embedded`: loopback address:port where `kiosk ca "
        "serve` answers CMP and where the kiosk asks for certificates (docs/cmp.md)", to_pki=("ca_listen",))
    ca_folder: str = variable("KIOSK_CA_FOLDER", "yessign", "CA folder name in the NPKI bundle",
                              to_pki=("ca_folder",))
    renewal_window_days: int = variable(
        "KIOSK_RENEWAL_WINDOW_DAYS", 30, "갱신 (renewal) opens this many days before a certificate expires "
        "(1–90; some CAs open it 60–90 days early)", bounds=(1, 90), to_pki=("renewal_window_days",))
    bank_code: str = variable("KIOSK_BANK_CODE", "KPB", "bank code OU in the subject DN",
                              to_pki=("bank_code", "cmp.bank_code"))
    institution_code: str = variable("KIOSK_INSTITUTION_CODE", "11", "2-digit institution code in the CN "
                                     "number", to_pki=("institution_code",))
    pki_base_url: str = variable(
        "KIOSK_PKI_BASE_URL", "http://127.0.0.1:8080/pki", "base URL of the CRL and OCSP links written into "
        "certificates", shown="http://127.0.0.1:$KIOSK_PORT/pki",
        depends=lambda read: f"http://127.0.0.1:{read['port']}/pki", to_pki=("pki_base_url",))
    cmp_url: str = variable(
        "KIOSK_CMP_URL", "", "with `KIOSK_CA=cmp`: the CA's CMP endpoint over HTTP, e.g. "
        "`http://ca.example:8080/pkix/` (docs/cmp.md)", to_pki=("cmp.url",))
    cmp_ca_certs: str = variable(
        "KIOSK_CMP_CA_CERTS", "", "with `KIOSK_CA=cmp`: PEM file, the issuing CA's certificate first, then "
        "its root; issued certificates and signed CMP replies are checked against it", to_pki=("cmp.ca_certs",))
    cmp_kek_cert: str = variable(
        "KIOSK_CMP_KEK_CERT", "", "with `KIOSK_CA=cmp`: PEM file, the CA's key-encryption certificate (RSA) "
        "that the EncryptedVID is encrypted to", to_pki=("cmp.kek_cert",))
    cmp_crl_url: str = variable(
        "KIOSK_CMP_CRL_URL", "", "with `KIOSK_CA=cmp`: where the CA publishes its CRL; `/pki/crl` relays it "
        "(503 when empty)", to_pki=("cmp.crl_url",))
    cmp_ra: str = variable(
        "KIOSK_CMP_RA", "demo", "registration agent handing out reference numbers and authorisation codes: "
        "`demo` (refused in production) or `http`, the bank's RA service", choices=("demo", "http"),
        to_pki=("cmp.ra",))
    cmp_ra_url: str = variable(
        "KIOSK_CMP_RA_URL", "", "with `KIOSK_CMP_RA=http`: the bank's registration agent HTTP JSON service "
        "(docs/cmp.md)", to_pki=("cmp.ra_url",))
    cmp_timeout_seconds: int = variable(
        "KIOSK_CMP_TIMEOUT_SECONDS", 30, "seconds allowed for one CMP round trip", bounds=(1, 3600),
        to_pki=("cmp.timeout_seconds",))
    cmp_retries: int = variable(
        "KIOSK_CMP_RETRIES", 2, "retries of a CMP message that cannot have reached the CA (refused "
        "connection, HTTP 502/503/504)", bounds=(0, 10), to_pki=("cmp.retries",))
    cmp_total_timeout_seconds: int = variable(
        "KIOSK_CMP_TOTAL_TIMEOUT_SECONDS", 300, "longest wait for a certificate the CA answers 'waiting' for "
        "(polling)", bounds=(1, 86400), to_pki=("cmp.total_timeout_seconds",))
    smtp_url: str = variable(
        "KIOSK_SMTP_URL", "", "`smtp://host:port`, `smtp+starttls://user:pass@host:587` or `smtps://...:465`",
        shown="(empty: demo outbox)")
    mail_from: str = variable("KIOSK_MAIL_FROM", "cert-kiosk@localhost", "sender of e-mail codes")
    directory_url: str = variable(
        "KIOSK_DIRECTORY_URL", "", "customer directory HTTP JSON service (docs/adapters.md)",
        shown="(empty: demo directory)")
    accounts_url: str = variable(
        "KIOSK_ACCOUNTS_URL", "", "account verification HTTP JSON service (docs/adapters.md)",
        shown="(empty: demo accounts)")
    id_check_url: str = variable(
        "KIOSK_ID_CHECK_URL", "", "ID card authenticity service (신분증 진위확인), HTTP JSON (docs/adapters.md)",
        shown="(empty: demo cards)")
    drives_backend: str = variable(
        "KIOSK_DRIVES", "demo", "`demo` directories, `udisks2` over D-Bus, or `mount` when run as root",
        shown="demo (demo), udisks2 (production)", choices=("demo", "udisks2", "mount"),
        depends=lambda read: "demo" if read["mode"] == "demo" else "udisks2")
    idle_seconds: int = variable("KIOSK_IDLE_SECONDS", 60, "seconds without a touch before the idle warning",
                                 bounds=(1, 3600))
    idle_warning_seconds: int = variable(
        "KIOSK_IDLE_WARNING_SECONDS", 20, "countdown of the idle warning before the session resets",
        bounds=(1, 600))
    session_limit_seconds: int = variable("KIOSK_SESSION_LIMIT_SECONDS", 900,
                                          "hard limit of one customer session", bounds=(1, 86400))
    log_level: str = variable("KIOSK_LOG_LEVEL", "info", "`debug`, `info`, `warning` or `error`",
                              choices=("debug", "info", "warning", "error"))
    metrics_host: str = variable(
        "KIOSK_METRICS_HOST", "127.0.0.1", "address of the Prometheus metrics listener, apart from the "
        "customer's origin: loopback, or the kiosk's management-network address (docs/fleet.md)")
    metrics_port: int = variable(
        "KIOSK_METRICS_PORT", 9108, "port of the Prometheus metrics listener (`/metrics`); 0 turns it off",
        bounds=(0, 65535))
    usb_port_position: str = variable(
        "KIOSK_USB_PORT_POSITION", "front-right", "where this kiosk model's USB port is, as the drive step's "
        "picture shows it: `front-left`, `front-center`, `front-right` (the ledge under the screen), "
        "`side-left` or `side-right`", choices=USB_PORT_POSITIONS)
    printer: str = variable(
        "KIOSK_PRINTER", "none", "thermal receipt printer (ESC/POS): `none`, `file:/dev/usb/lp0` or "
        "`usb:VID:PID` in hex (`usb:04b8:0202`); optional, its absence never stops a customer "
        "(docs/operations.md)")
    rauc_conf: Path = variable(
        "KIOSK_RAUC_CONF", Path("/etc/rauc/system.conf"), "RAUC's system configuration, on the A/B appliance: "
        "where it exists, the staff console offers the signed update bundles it finds on a USB stick "
        "(docs/operations.md)")
    update_url: str = variable(
        "KIOSK_UPDATE_URL", "", "the fleet's update server on the A/B appliance: an HTTP(S) base URL holding "
        "`latest` and the signed bundles, read nightly by `kiosk update fetch` (docs/operations.md)",
        shown="(empty: no network updates)")
    update_rate_kib: int = variable(
        "KIOSK_UPDATE_RATE_KIB", 4096, "most KiB per second a network update downloads, so that the "
        "branch's own traffic goes on; 0: no limit", bounds=(0, 10_000_000))
    receipt_help_url: str = variable(
        "KIOSK_RECEIPT_HELP_URL", DEFAULT_RECEIPT_HELP_URL, "where the receipt's QR code and help line point: "
        "Korea Post's internet banking")

    @property
    def is_demo(self) -> bool:
        return self.mode == "demo"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "kiosk.sqlite3"

    @classmethod
    def from_env(cls) -> "Settings":
        read: dict[str, Any] = {}
        for declared in fields(cls):
            read[declared.name] = _read(declared, read)
        settings = cls(**read)
        settings.validate()
        return settings

    def with_overrides(self, **overrides) -> "Settings":
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigurationError(f"unknown settings: {', '.join(sorted(unknown))}")
        if "data_dir" in overrides:
            overrides["data_dir"] = Path(overrides["data_dir"])
        return replace(self, **overrides)

    def validate(self) -> None:
        """Refuse combinations that would be unsafe in a branch; demo mode accepts everything else."""
        for declared in fields(self):
            _check_rule(declared, getattr(self, declared.name))
        self._validate_cmp()
        self._validate_receipts()
        if self.metrics_port and self.metrics_port == self.port:
            raise ConfigurationError("KIOSK_METRICS_PORT must be 0 (off) or a port other than KIOSK_PORT "
                                     "(the metrics stay off the customer's origin; docs/fleet.md)")
        if self.mode == "production" and (problems := self._production_problems()):
            raise ConfigurationError("KIOSK_MODE=production refuses to start; set: " + "; ".join(problems))

    def _production_problems(self) -> list[str]:
        """Every demo secret or demo service still in place, each named with what to set instead."""
        refused = [
            (self.secret_key == DEMO_SECRET_KEY or len(self.secret_key) < 32,
             "KIOSK_SECRET_KEY (a random value of at least 32 characters)"),
            (self.customer_hash_key == DEMO_CUSTOMER_HASH_KEY or len(self.customer_hash_key) < 32,
             "KIOSK_CUSTOMER_HASH_KEY (a random value of at least 32 characters)"),
            (self.ca_backend == "embedded" and self.ca_passphrase == DEMO_CA_PASSPHRASE,
             "KIOSK_CA_PASSPHRASE (the demo CA passphrase is not allowed in production)"),
            (not self.smtp_url, "KIOSK_SMTP_URL (production sends e-mail codes through a real SMTP server)"),
            (not self.directory_url, "KIOSK_DIRECTORY_URL (the customer directory service)"),
            (not self.accounts_url, "KIOSK_ACCOUNTS_URL (the account verification service)"),
            (not self.id_check_url, "KIOSK_ID_CHECK_URL (the ID card authenticity service)"),
            (self.drives_backend == "demo", "KIOSK_DRIVES (demo drives are not allowed in production; use udisks2)"),
            (self.ca_backend == "cmp" and self.cmp_ra == "demo",
             "KIOSK_CMP_RA (the demo registration agent is not allowed in production; use http)"),
        ]
        return [problem for refuses, problem in refused if refuses]

    def _validate_receipts(self) -> None:
        """A wrong printer setting is a typo in the env file: say so at start, not on the customer's last
        screen."""
        from hardware.printer import PrinterSettingError, parse_printer

        try:
            parse_printer(self.printer)
        except PrinterSettingError as exc:
            raise ConfigurationError(str(exc)) from None
        if not self.receipt_help_url.startswith(("https://", "http://")):
            raise ConfigurationError("KIOSK_RECEIPT_HELP_URL must be an http(s) URL")

    def _validate_cmp(self) -> None:
        """KIOSK_CA=cmp cannot work without a URL and the CA's certificates: say which are missing."""
        if self.cmp_ra == "http" and not self.cmp_ra_url:
            raise ConfigurationError("KIOSK_CMP_RA=http needs KIOSK_CMP_RA_URL (docs/cmp.md)")
        if self.ca_backend == "cmp" and (missing := self.pki.cmp.missing()):
            raise ConfigurationError(missing)

    @property
    def pki(self) -> PkiSettings:
        """The part of the configuration the PKI is given (kiosk.pki.config), as each setting's `to_pki`
        declares it."""
        handed: dict[str, Any] = {"ca_dir": Path(self.ca_dir) if self.ca_dir else self.data_dir / "ca"}
        cmp: dict[str, Any] = {}
        for declared in fields(self):
            for target in _variable(declared).to_pki:
                into, name = (cmp, target[4:]) if target.startswith("cmp.") else (handed, target)
                into[name] = getattr(self, declared.name)
        return PkiSettings(**handed, cmp=CmpSettings(**cmp))


def _variable(declared: Field) -> Variable:
    return declared.metadata["variable"]


def _read(declared: Field, read: dict[str, Any]) -> Any:
    """The environment's value of one setting, or its default; a whole number that is not one is refused
    naming the variable."""
    declaration = _variable(declared)
    raw = os.environ.get(declaration.env, "")
    if raw == "":
        return declaration.depends(read) if declaration.depends else declared.default
    if isinstance(declared.default, bool) or not isinstance(declared.default, int | Path):
        return raw
    if isinstance(declared.default, Path):
        return Path(raw).resolve()
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{declaration.env} must be a whole number, not {raw!r}") from None


def _check_rule(declared: Field, value: Any) -> None:
    declaration = _variable(declared)
    if declaration.choices and value not in declaration.choices:
        allowed = ", ".join(f"'{choice}'" for choice in declaration.choices)
        raise ConfigurationError(f"{declaration.env} must be one of {allowed}, not {value!r}")
    if declaration.bounds and not declaration.bounds[0] <= value <= declaration.bounds[1]:
        low, high = declaration.bounds
        raise ConfigurationError(f"{declaration.env} must be {low} to {high}, not {value!r}")


def readme_table() -> str:
    """README.md's configuration table, derived from the declarations (tests compare the two)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for declared in fields(Settings):
        declaration = _variable(declared)
        default = declaration.shown
        if default is None:
            default = str(declared.default) if declared.default not in ("", MISSING) else "(empty)"
        rows.append(f"| `{declaration.env}` | {default} | {declaration.meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(readme_table())

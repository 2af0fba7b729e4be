"""One `Settings` object, read from the environment (`KIOSK_*`) once at start-up and validated.

Demo mode has safe defaults for everything, so that `make run` works on a fresh machine; production mode
refuses to start while any demo secret is still in place and says which setting is missing.
The table in README.md is generated from `SETTINGS_TABLE` (tests keep the two in step).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

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


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _env_int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    mode: str = "demo"
    data_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "var")
    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 16
    secret_key: str = DEMO_SECRET_KEY
    customer_hash_key: str = DEMO_CUSTOMER_HASH_KEY
    ca_backend: str = "embedded"
    ca_passphrase: str = DEMO_CA_PASSPHRASE
    ca_folder: str = "yessign"
    renewal_window_days: int = 30
    bank_code: str = "KPB"
    institution_code: str = "11"
    pki_base_url: str = "http://127.0.0.1:8080/pki"
    cmp_url: str = ""
    cmp_ca_certs: str = ""
    cmp_kek_cert: str = ""
    cmp_crl_url: str = ""
    cmp_ra: str = "demo"
    cmp_ra_url: str = ""
    cmp_timeout_seconds: int = 30
    cmp_retries: int = 2
    cmp_total_timeout_seconds: int = 300
    smtp_url: str = ""
    mail_from: str = "cert-kiosk@localhost"
    directory_url: str = ""
    accounts_url: str = ""
    drives_backend: str = "demo"
    idle_seconds: int = 60
    idle_warning_seconds: int = 20
    session_limit_seconds: int = 900
    log_level: str = "info"
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9108
    usb_port_position: str = "front-right"
    printer: str = "none"
    receipt_help_url: str = DEFAULT_RECEIPT_HELP_URL

    @property
    def is_demo(self) -> bool:
        return self.mode == "demo"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "kiosk.sqlite3"

    @classmethod
    def from_env(cls) -> "Settings":
        mode = _env("KIOSK_MODE", "demo")
        if mode not in ("demo", "production"):
            raise ConfigurationError(f"KIOSK_MODE must be 'demo' or 'production', not {mode!r}")
        default_dir = PROJECT_ROOT / "var" if mode == "demo" else Path("/var/lib/cert-kiosk")
        port = _env_int("KIOSK_PORT", 8080)
        settings = cls(
            mode=mode,
            data_dir=Path(_env("KIOSK_DATA_DIR", str(default_dir))).resolve(),
            host=_env("KIOSK_HOST", "127.0.0.1"),
            port=port,
            threads=_env_int("KIOSK_THREADS", 16),
            secret_key=_env("KIOSK_SECRET_KEY", DEMO_SECRET_KEY),
            customer_hash_key=_env("KIOSK_CUSTOMER_HASH_KEY", DEMO_CUSTOMER_HASH_KEY),
            ca_backend=_env("KIOSK_CA", "embedded"),
            ca_passphrase=_env("KIOSK_CA_PASSPHRASE", DEMO_CA_PASSPHRASE),
            ca_folder=_env("KIOSK_CA_FOLDER", "yessign"),
            renewal_window_days=_env_int("KIOSK_RENEWAL_WINDOW_DAYS", 30),
            bank_code=_env("KIOSK_BANK_CODE", "KPB"),
            institution_code=_env("KIOSK_INSTITUTION_CODE", "11"),
            pki_base_url=_env("KIOSK_PKI_BASE_URL", f"http://127.0.0.1:{port}/pki"),
            cmp_url=_env("KIOSK_CMP_URL", ""),
            cmp_ca_certs=_env("KIOSK_CMP_CA_CERTS", ""),
            cmp_kek_cert=_env("KIOSK_CMP_KEK_CERT", ""),
            cmp_crl_url=_env("KIOSK_CMP_CRL_URL", ""),
            cmp_ra=_env("KIOSK_CMP_RA", "demo"),
            cmp_ra_url=_env("KIOSK_CMP_RA_URL", ""),
            cmp_timeout_seconds=_env_int("KIOSK_CMP_TIMEOUT_SECONDS", 30),
            cmp_retries=_env_int("KIOSK_CMP_RETRIES", 2),
            cmp_total_timeout_seconds=_env_int("KIOSK_CMP_TOTAL_TIMEOUT_SECONDS", 300),
            smtp_url=_env("KIOSK_SMTP_URL", ""),
            mail_from=_env("KIOSK_MAIL_FROM", "cert-kiosk@localhost"),
            directory_url=_env("KIOSK_DIRECTORY_URL", ""),
            accounts_url=_env("KIOSK_ACCOUNTS_URL", ""),
            drives_backend=_env("KIOSK_DRIVES", "demo" if mode == "demo" else "udisks2"),
            idle_seconds=_env_int("KIOSK_IDLE_SECONDS", 60),
            idle_warning_seconds=_env_int("KIOSK_IDLE_WARNING_SECONDS", 20),
            session_limit_seconds=_env_int("KIOSK_SESSION_LIMIT_SECONDS", 900),
            log_level=_env("KIOSK_LOG_LEVEL", "info"),
            metrics_host=_env("KIOSK_METRICS_HOST", "127.0.0.1"),
            metrics_port=_env_int("KIOSK_METRICS_PORT", 9108),
            usb_port_position=_env("KIOSK_USB_PORT_POSITION", "front-right"),
            printer=_env("KIOSK_PRINTER", "none"),
            receipt_help_url=_env("KIOSK_RECEIPT_HELP_URL", DEFAULT_RECEIPT_HELP_URL),
        )
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
        if self.ca_backend not in ("embedded", "cmp"):
            raise ConfigurationError("KIOSK_CA must be 'embedded' or 'cmp'")
        if self.drives_backend not in ("demo", "udisks2", "mount"):
            raise ConfigurationError("KIOSK_DRIVES must be 'demo', 'udisks2' or 'mount'")
        self._validate_cmp()
        self._validate_receipts()
        if not 1 <= self.renewal_window_days <= 90:
            raise ConfigurationError("KIOSK_RENEWAL_WINDOW_DAYS must be 1 to 90 (days before expiry)")
        if not 0 <= self.metrics_port <= 65535 or (self.metrics_port and self.metrics_port == self.port):
            raise ConfigurationError("KIOSK_METRICS_PORT must be 0 (off) or a port other than KIOSK_PORT "
                                     "(the metrics stay off the customer's origin; docs/fleet.md)")
        if self.mode != "production":
            return
        problems = []
        if self.secret_key == DEMO_SECRET_KEY or len(self.secret_key) < 32:
            problems.append("KIOSK_SECRET_KEY (a random value of at least 32 characters)")
        if self.customer_hash_key == DEMO_CUSTOMER_HASH_KEY or len(self.customer_hash_key) < 32:
            problems.append("KIOSK_CUSTOMER_HASH_KEY (a random value of at least 32 characters)")
        if self.ca_backend == "embedded" and self.ca_passphrase == DEMO_CA_PASSPHRASE:
            problems.append("KIOSK_CA_PASSPHRASE (the demo CA passphrase is not allowed in production)")
        if not self.smtp_url:
            problems.append("KIOSK_SMTP_URL (production sends e-mail codes through a real SMTP server)")
        if not self.directory_url:
            problems.append("KIOSK_DIRECTORY_URL (the customer directory service)")
        if not self.accounts_url:
            problems.append("KIOSK_ACCOUNTS_URL (the account verification service)")
        if self.drives_backend == "demo":
            problems.append("KIOSK_DRIVES (demo drives are not allowed in production; use udisks2)")
        if self.ca_backend == "cmp" and self.cmp_ra == "demo":
            problems.append("KIOSK_CMP_RA (the demo registration agent is not allowed in production; use http)")
        if problems:
            raise ConfigurationError(
                "KIOSK_MODE=production refuses to start; set: " + "; ".join(problems)
            )


    def _validate_receipts(self) -> None:
        """A wrong port position or printer setting is a typo in the env file: say so at start, not on
        the customer's last screen."""
        if self.usb_port_position not in USB_PORT_POSITIONS:
            raise ConfigurationError(f"KIOSK_USB_PORT_POSITION must be one of {', '.join(USB_PORT_POSITIONS)}")
        from kiosk.receipt import PrinterSettingError, parse_printer

        try:
            parse_printer(self.printer)
        except PrinterSettingError as exc:
            raise ConfigurationError(str(exc)) from None
        if not self.receipt_help_url.startswith(("https://", "http://")):
            raise ConfigurationError("KIOSK_RECEIPT_HELP_URL must be an http(s) URL")

    def _validate_cmp(self) -> None:
        """KIOSK_CA=cmp cannot work without a URL and the CA's certificates: say which are missing."""
        if self.cmp_ra not in ("demo", "http"):
            raise ConfigurationError("KIOSK_CMP_RA must be 'demo' or 'http' (docs/cmp.md)")
        if self.cmp_ra == "http" and not self.cmp_ra_url:
            raise ConfigurationError("KIOSK_CMP_RA=http needs KIOSK_CMP_RA_URL (docs/cmp.md)")
        if self.cmp_timeout_seconds < 1 or self.cmp_retries < 0 or self.cmp_total_timeout_seconds < 1:
            raise ConfigurationError("KIOSK_CMP_TIMEOUT_SECONDS, _TOTAL_TIMEOUT_SECONDS >= 1, _RETRIES >= 0")
        if self.ca_backend == "cmp" and (missing := self.pki.cmp.missing()):
            raise ConfigurationError(missing)

    @property
    def pki(self) -> PkiSettings:
        """The part of the configuration the PKI is given (kiosk.pki.config)."""
        return PkiSettings(
            ca_backend=self.ca_backend, ca_dir=self.data_dir / "ca", ca_passphrase=self.ca_passphrase,
            ca_folder=self.ca_folder, bank_code=self.bank_code, institution_code=self.institution_code,
            pki_base_url=self.pki_base_url, renewal_window_days=self.renewal_window_days,
            cmp=CmpSettings(
                url=self.cmp_url, ca_certs=self.cmp_ca_certs, kek_cert=self.cmp_kek_cert,
                crl_url=self.cmp_crl_url, ra=self.cmp_ra, ra_url=self.cmp_ra_url,
                timeout_seconds=self.cmp_timeout_seconds, retries=self.cmp_retries,
                total_timeout_seconds=self.cmp_total_timeout_seconds, bank_code=self.bank_code,
            ),
        )


# (variable, default in demo mode, meaning) — rendered into README.md's configuration table.
SETTINGS_TABLE = [
    ("KIOSK_MODE", "demo", "`demo` (demo customers, demo drives, local outbox) or `production`, which refuses every demo secret"),
    ("KIOSK_DATA_DIR", "./var (demo), /var/lib/cert-kiosk (production)", "all state: SQLite database, CA keys, CRL, demo drives"),
    ("KIOSK_HOST", "127.0.0.1", "address the WSGI server listens on"),
    ("KIOSK_PORT", "8080", "port the WSGI server listens on"),
    ("KIOSK_THREADS", "16", "worker threads (each open drive-list SSE stream holds one)"),
    ("KIOSK_SECRET_KEY", "demo value", "signs the session cookie and CSRF tokens; required in production"),
    ("KIOSK_CUSTOMER_HASH_KEY", "demo value", "key of the keyed hash that names customers in the registry and audit log"),
    ("KIOSK_CA", "embedded", "`embedded` CA under the data dir, or `cmp` to a real CA"),
    ("KIOSK_CA_PASSPHRASE", "demo value", "encrypts the embedded CA's private keys on disk; required in production"),
    ("KIOSK_CA_FOLDER", "yessign", "CA folder name in the NPKI bundle"),
    ("KIOSK_BANK_CODE", "KPB", "bank code OU in the subject DN"),
    ("KIOSK_INSTITUTION_CODE", "11", "2-digit institution code in the CN number"),
    ("KIOSK_PKI_BASE_URL", "http://127.0.0.1:$KIOSK_PORT/pki", "base URL of the CRL and OCSP links written into certificates"),
    ("KIOSK_CMP_URL", "(empty)", "with `KIOSK_CA=cmp`: the CA's CMP endpoint over HTTP, e.g. `http://ca.example:8080/pkix/` (docs/cmp.md)"),
    ("KIOSK_CMP_CA_CERTS", "(empty)", "with `KIOSK_CA=cmp`: PEM file, the issuing CA's certificate first, then its root; issued certificates and signed CMP replies are checked against it"),
    ("KIOSK_CMP_KEK_CERT", "(empty)", "with `KIOSK_CA=cmp`: PEM file, the CA's key-encryption certificate (RSA) that the EncryptedVID is encrypted to"),
    ("KIOSK_CMP_CRL_URL", "(empty)", "with `KIOSK_CA=cmp`: where the CA publishes its CRL; `/pki/crl` relays it (503 when empty)"),
    ("KIOSK_CMP_RA", "demo", "registration agent handing out reference numbers and authorisation codes: `demo` (refused in production) or `http`, the bank's RA service"),
    ("KIOSK_CMP_RA_URL", "(empty)", "with `KIOSK_CMP_RA=http`: the bank's registration agent HTTP JSON service (docs/cmp.md)"),
    ("KIOSK_CMP_TIMEOUT_SECONDS", "30", "seconds allowed for one CMP round trip"),
    ("KIOSK_CMP_RETRIES", "2", "retries of a CMP message that cannot have reached the CA (refused connection, HTTP 502/503/504)"),
    ("KIOSK_CMP_TOTAL_TIMEOUT_SECONDS", "300", "longest wait for a certificate the CA answers 'waiting' for (polling)"),
    ("KIOSK_SMTP_URL", "(empty: demo outbox)", "`smtp://host:port`, `smtp+starttls://user:pass@host:587` or `smtps://...:465`"),
    ("KIOSK_MAIL_FROM", "cert-kiosk@localhost", "sender of e-mail codes"),
    ("KIOSK_DIRECTORY_URL", "(empty: demo directory)", "customer directory HTTP JSON service (docs/adapters.md)"),
    ("KIOSK_ACCOUNTS_URL", "(empty: demo accounts)", "account verification HTTP JSON service (docs/adapters.md)"),
    ("KIOSK_DRIVES", "demo (demo), udisks2 (production)", "`demo` directories, `udisks2` over D-Bus, or `mount` when run as root"),
    ("KIOSK_IDLE_SECONDS", "60", "seconds without a touch before the idle warning"),
    ("KIOSK_IDLE_WARNING_SECONDS", "20", "countdown of the idle warning before the session resets"),
    ("KIOSK_SESSION_LIMIT_SECONDS", "900", "hard limit of one customer session"),
    ("KIOSK_LOG_LEVEL", "info", "`debug`, `info`, `warning` or `error`"),
    ("KIOSK_METRICS_HOST", "127.0.0.1", "address of the Prometheus metrics listener, apart from the customer's origin: loopback, or the kiosk's management-network address (docs/fleet.md)"),
    ("KIOSK_METRICS_PORT", "9108", "port of the Prometheus metrics listener (`/metrics`); 0 turns it off"),
    ("KIOSK_USB_PORT_POSITION", "front-right", "where this kiosk model's USB port is, as the drive step's picture shows it: `front-left`, `front-center`, `front-right` (the ledge under the screen), `side-left` or `side-right`"),
    ("KIOSK_PRINTER", "none", "thermal receipt printer (ESC/POS): `none`, `file:/dev/usb/lp0` or `usb:VID:PID` in hex (`usb:04b8:0202`); optional, its absence never stops a customer (docs/operations.md)"),
    ("KIOSK_RECEIPT_HELP_URL", "https://www.epostbank.go.kr/", "where the receipt's QR code and help line point: Korea Post's internet banking"),
]

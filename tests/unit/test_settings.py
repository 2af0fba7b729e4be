import itertools
from pathlib import Path

import pytest

from kiosk.settings import ConfigurationError, Settings, readme_table


def production_env(monkeypatch, **extra):
    env = {
        "KIOSK_MODE": "production",
        "KIOSK_SECRET_KEY": "s" * 40,
        "KIOSK_CUSTOMER_HASH_KEY": "h" * 40,
        "KIOSK_CA_PASSPHRASE": "a real passphrase for the CA",
        "KIOSK_SMTP_URL": "smtp+starttls://mail.example:587",
        "KIOSK_DIRECTORY_URL": "https://directory.example/api",
        "KIOSK_ACCOUNTS_URL": "https://accounts.example/api",
        "KIOSK_ID_CHECK_URL": "https://idcards.example/api",
        "KIOSK_DRIVES": "udisks2",
    }
    env.update(extra)
    monkeypatch.delenv("KIOSK_DATA_DIR", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_demo_mode_starts_on_defaults(monkeypatch):
    monkeypatch.delenv("KIOSK_MODE", raising=False)
    settings = Settings.from_env()
    assert settings.is_demo
    assert settings.port == 8080
    assert settings.data_dir.name == "var"


def test_port_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("KIOSK_PORT", "9123")
    assert Settings.from_env().port == 9123


def test_a_port_that_is_not_a_number_names_the_setting(monkeypatch):
    monkeypatch.setenv("KIOSK_PORT", "eighty")
    with pytest.raises(ConfigurationError, match="KIOSK_PORT"):
        Settings.from_env()


def test_production_with_every_secret_set_starts(monkeypatch):
    production_env(monkeypatch)
    settings = Settings.from_env()
    assert settings.data_dir.as_posix() == "/var/lib/cert-kiosk"


@pytest.mark.parametrize(
    "unset, named",
    [
        ("KIOSK_SECRET_KEY", "KIOSK_SECRET_KEY"),
        ("KIOSK_CA_PASSPHRASE", "KIOSK_CA_PASSPHRASE"),
        ("KIOSK_CUSTOMER_HASH_KEY", "KIOSK_CUSTOMER_HASH_KEY"),
        ("KIOSK_SMTP_URL", "KIOSK_SMTP_URL"),
        ("KIOSK_DIRECTORY_URL", "KIOSK_DIRECTORY_URL"),
    ],
)
def test_production_refuses_a_demo_secret_and_names_it(monkeypatch, unset, named):
    production_env(monkeypatch)
    monkeypatch.delenv(unset)
    with pytest.raises(ConfigurationError, match=named):
        Settings.from_env()


def test_production_refuses_demo_drives(monkeypatch):
    production_env(monkeypatch, KIOSK_DRIVES="demo")
    with pytest.raises(ConfigurationError, match="KIOSK_DRIVES"):
        Settings.from_env()


def readme_configuration_table() -> str:
    """The table under README.md's "Configuration" heading, from its header row to its last row."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].splitlines()
    start = section.index("| variable | default | meaning |")
    rows = itertools.takewhile(lambda line: line.startswith("|"), section[start:])
    return "\n".join(rows)


def test_readme_table_is_the_one_derived_from_the_declarations():
    derived = readme_table()
    assert readme_configuration_table() == derived, (
        "README.md's configuration table differs from kiosk/settings.py; paste the output of "
        "`python -m kiosk.settings` in its place:\n" + derived)


@pytest.mark.parametrize("name, value, said", [
    ("KIOSK_CA", "paper", "KIOSK_CA must be one of 'embedded', 'cmp'"),
    ("KIOSK_DRIVES", "floppy", "KIOSK_DRIVES must be one of"),
    ("KIOSK_LOG_LEVEL", "loud", "KIOSK_LOG_LEVEL must be one of"),
    ("KIOSK_RENEWAL_WINDOW_DAYS", "91", "KIOSK_RENEWAL_WINDOW_DAYS must be 1 to 90"),
    ("KIOSK_METRICS_PORT", "70000", "KIOSK_METRICS_PORT must be 0 to 65535"),
    ("KIOSK_CMP_RETRIES", "-1", "KIOSK_CMP_RETRIES must be 0 to 10"),
])
def test_a_value_outside_its_rule_is_refused_naming_the_variable(monkeypatch, name, value, said):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=said):
        Settings.from_env()


def test_the_pki_is_handed_what_the_environment_says(monkeypatch):
    monkeypatch.setenv("KIOSK_RENEWAL_WINDOW_DAYS", "60")
    monkeypatch.setenv("KIOSK_BANK_CODE", "XYZ")
    monkeypatch.setenv("KIOSK_CMP_TIMEOUT_SECONDS", "7")
    pki = Settings.from_env().pki
    assert pki.renewal_window_days == 60
    assert (pki.bank_code, pki.cmp.bank_code) == ("XYZ", "XYZ")
    assert pki.cmp.timeout_seconds == 7
    assert pki.ca_dir == Settings.from_env().data_dir / "ca"


def test_the_pki_base_url_follows_the_port_unless_set(monkeypatch):
    monkeypatch.setenv("KIOSK_PORT", "9123")
    assert Settings.from_env().pki_base_url == "http://127.0.0.1:9123/pki"
    monkeypatch.setenv("KIOSK_PKI_BASE_URL", "https://pki.example/crl")
    assert Settings.from_env().pki_base_url == "https://pki.example/crl"


def test_production_cmp_needs_the_banks_registration_agent(monkeypatch):
    cmp = {"KIOSK_CA": "cmp", "KIOSK_CMP_URL": "https://ca.example/cmp", "KIOSK_CMP_CA_CERTS": "/etc/ca.pem",
           "KIOSK_CMP_KEK_CERT": "/etc/kek.pem"}
    production_env(monkeypatch, **cmp)
    with pytest.raises(ConfigurationError, match="KIOSK_CMP_RA .the demo registration agent"):
        Settings.from_env()
    production_env(monkeypatch, **cmp, KIOSK_CMP_RA="http")
    with pytest.raises(ConfigurationError, match="KIOSK_CMP_RA=http needs KIOSK_CMP_RA_URL"):
        Settings.from_env()
    production_env(monkeypatch, **cmp, KIOSK_CMP_RA="http", KIOSK_CMP_RA_URL="https://ra.example/api")
    assert Settings.from_env().cmp_ra_url == "https://ra.example/api"
    production_env(monkeypatch, **cmp, KIOSK_CMP_RA="fax")
    with pytest.raises(ConfigurationError, match="KIOSK_CMP_RA must be one of 'demo', 'http'"):
        Settings.from_env()

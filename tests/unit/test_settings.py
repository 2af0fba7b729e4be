import pytest

from kiosk.settings import ConfigurationError, Settings


def production_env(monkeypatch, **extra):
    env = {
        "KIOSK_MODE": "production",
        "KIOSK_SECRET_KEY": "s" * 40,
        "KIOSK_CUSTOMER_HASH_KEY": "h" * 40,
        "KIOSK_CA_PASSPHRASE": "a real passphrase for the CA",
        "KIOSK_SMTP_URL": "smtp+starttls://mail.example:587",
        "KIOSK_DIRECTORY_URL": "https://directory.example/api",
        "KIOSK_ACCOUNTS_URL": "https://accounts.example/api",
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


def test_readme_documents_every_setting():
    from pathlib import Path

    from kiosk.settings import SETTINGS_TABLE

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name, _default, _meaning in SETTINGS_TABLE:
        assert f"`{name}`" in readme, f"{name} is missing from README.md's configuration table"


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
    with pytest.raises(ConfigurationError, match="KIOSK_CMP_RA must be 'demo' or 'http'"):
        Settings.from_env()

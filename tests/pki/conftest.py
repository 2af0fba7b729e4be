"""PKI fixtures: one embedded demo CA made per test session and copied into each test's data dir
(creating a CA generates two RSA keys), a migrated real SQLite store, and the IssuanceService."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.pki.embedded import EmbeddedCA
from kiosk.pki.issuance import Applicant, IssuanceService
from kiosk.settings import DEMO_CA_PASSPHRASE, Settings
from kiosk.store import Store

PASSWORD = "Kiosk!2580x"
RRN = "9001011234568"
OPENSSL = "/usr/bin/openssl"
LEGACY = ["-provider", "legacy", "-provider", "default"]


@pytest.fixture(scope="session")
def ca_template(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("ca-template") / "ca"
    EmbeddedCA.create(directory, DEMO_CA_PASSPHRASE, demo=True)
    return directory


@pytest.fixture
def pki_settings(data_dir) -> Settings:
    return Settings(data_dir=data_dir, pki_base_url="http://kiosk.test/pki")


@pytest.fixture
def store(pki_settings) -> Store:
    store = Store(pki_settings.database_path)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def installed_ca(ca_template, pki_settings) -> Path:
    target = pki_settings.data_dir / "ca"
    shutil.copytree(ca_template, target)
    return target


@pytest.fixture
def service(installed_ca, pki_settings, store) -> IssuanceService:
    return IssuanceService.from_settings(pki_settings, store)


@pytest.fixture
def applicant() -> Applicant:
    return Applicant(name="홍길동", english_name="HONG GILDONG", rrn=RRN, customer_key="c" * 32)


class Clock:
    """A clock the test moves by hand (renewal windows, CRL refresh)."""

    def __init__(self, now: datetime | None = None):
        self.now = now or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def write_bundle(root: Path, bundle) -> Path:
    for relative, data in bundle.files:
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root / bundle.folder


def openssl(*args, input: bytes | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([OPENSSL, *args], input=input, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result

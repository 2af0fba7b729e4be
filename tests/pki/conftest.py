"""PKI fixtures: one embedded demo CA made per test session and copied into each test's data dir
(creating a CA generates two RSA keys), a migrated real SQLite store, and the IssuanceService."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pki_helpers import RRN

from kiosk.clock import Clock, ManualClock
from kiosk.pki.embedded import EmbeddedCA, Profile
from kiosk.pki.issuance import Applicant, IssuanceService
from kiosk.pki.registry import Registry
from kiosk.settings import Settings
from kiosk.store import Store


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
def clock() -> ManualClock:
    """The date the CA signs with and the service keeps: now, moved by hand (renewal windows, CRL refresh)."""
    return ManualClock(start=Clock().wall())


@pytest.fixture
def service(installed_ca, pki_settings, store, clock) -> IssuanceService:
    """The issuance service on the embedded CA called in this process: these tests are about the service
    and the profile. The kiosk itself asks the CA over CMP (test_pki_responder*.py and every journey)."""
    pki = pki_settings.pki
    ca = EmbeddedCA(installed_ca, pki.ca_passphrase, store,
                    Profile(pki.pki_base_url, pki.bank_code, pki.institution_code), clock=clock)
    return IssuanceService(ca, Registry(store), pki.ca_folder, pki.renewal_window, clock=clock)


@pytest.fixture
def applicant() -> Applicant:
    return Applicant(name="홍길동", english_name="HONG GILDONG", rrn=RRN, customer_key="c" * 32)

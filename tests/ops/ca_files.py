"""Odd CAs for the doctor's tests, made by the embedded CA's own code (never hand-written copies of the
doctor's assumptions): the CA `kiosk init --demo` created, replaced by one the same code creates as if at
another time, and its CRL re-signed as if at another time."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from kiosk.clock import ManualClock
from kiosk.pki.embedded import EmbeddedCA, Profile, utcnow
from kiosk.settings import Settings
from kiosk.store import Store


def remake_ca(data_dir: Path, created: datetime | None = None, crl_signed: datetime | None = None) -> Path:
    """Recreate the CA under `data_dir` as if made at `created` (default: keep the one `kiosk init` made) and
    sign its CRL as if at `crl_signed` (default: now). Returns the CA's directory."""
    settings = Settings(data_dir=data_dir)
    directory = settings.pki.ca_dir
    if created is not None:
        shutil.rmtree(directory)
        EmbeddedCA.create(directory, settings.ca_passphrase, demo=True, now=created)
    store = Store(directory / "ledger.sqlite")  # the CA's own ledger (kiosk ca serve)
    store.migrate()
    try:
        when = crl_signed or utcnow()
        ca = EmbeddedCA(directory, settings.ca_passphrase, store,
                        Profile(settings.pki_base_url, settings.bank_code, settings.institution_code),
                        clock=ManualClock(start=when.timestamp()))
        ca.publish_crl()
    finally:
        store.close()
    return directory

"""kiosk/wiring.py: building a kiosk chooses its adapters and starts nothing; starting it migrates the store
and starts the drive watcher, once however often it is called."""

from __future__ import annotations

import threading

import pytest

from kiosk.identity.demo import DemoOutbox, seed_demo_customers
from kiosk.identity.smtp import SmtpCodeSender
from kiosk.settings import ConfigurationError, Settings
from kiosk.store import Store
from kiosk.wiring import build


def test_building_creates_no_file_and_starts_no_thread(tmp_path):
    threads = set(threading.enumerate())
    kiosk = build(Settings(data_dir=tmp_path))
    assert list(tmp_path.iterdir()) == []
    assert set(threading.enumerate()) == threads
    assert not kiosk.drives.is_alive()


def test_building_chooses_the_adapter_the_settings_name(tmp_path):
    assert isinstance(build(Settings(data_dir=tmp_path)).code_sender, DemoOutbox)
    smtp = build(Settings(data_dir=tmp_path, smtp_url="smtp://127.0.0.1:2525")).code_sender
    assert isinstance(smtp, SmtpCodeSender) and (smtp.host, smtp.port) == ("127.0.0.1", 2525)


def test_starting_migrates_the_store_and_watches_drives_once(tmp_path):
    kiosk = build(Settings(data_dir=tmp_path))
    try:
        assert kiosk.start() is kiosk
        assert kiosk.store.version > 0 and kiosk.drives.is_alive()
        threads = set(threading.enumerate())
        kiosk.start()
        assert set(threading.enumerate()) == threads
    finally:
        kiosk.close()


def test_starting_in_production_refuses_a_database_with_demo_customers(tmp_path):
    store = Store(Settings(data_dir=tmp_path).database_path)
    store.migrate()
    seed_demo_customers(store, Settings().customer_hash_key)
    store.close()
    kiosk = build(Settings(data_dir=tmp_path, mode="production"))
    with pytest.raises(ConfigurationError, match="refuses to start"):
        kiosk.start()
    assert not kiosk.drives.is_alive()

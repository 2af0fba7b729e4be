"""Fixtures for the browser accessibility tests: the demo customers seeded, and `ui` (kiosk_ui.KioskUI)."""

from __future__ import annotations

import pytest
from kiosk_ui import KioskUI

from kiosk import create_app
from kiosk.identity.demo import seed_demo_customers


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    seed_demo_customers(app.extensions["kiosk"].store, app.extensions["kiosk"].settings.customer_hash_key)
    return app


@pytest.fixture
def ui(page, app):
    return KioskUI(page, app)

"""Fixtures for the browser accessibility tests: `ui` (tests.a11y.kiosk_ui.KioskUI) on the shared app
(demo CA and demo customers, tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.a11y.kiosk_ui import KioskUI


@pytest.fixture
def ui(page, app):
    return KioskUI(page, app)

"""Security tests run on a clock moved by hand: idle limits and lockouts without sleeping."""

import pytest

from kiosk.clock import ManualClock


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def app_config(app_config, clock):
    return {**app_config, "KIOSK_CLOCK": clock}

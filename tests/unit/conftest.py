"""A whole kiosk without the web: `build(settings)` on demo settings in this test's data dir, started (the
store made by the product's own migration), the demo customers seeded, its CA the test's demo CA
answering over CMP."""

from __future__ import annotations

import pytest

from kiosk.identity.demo import seed_demo_customers
from kiosk.settings import Settings
from kiosk.wiring import Kiosk, build


@pytest.fixture
def kiosk(app_config, ca_responder) -> Kiosk:
    settings = Settings().with_overrides(**{k: v for k, v in app_config.items() if k.islower()})
    kiosk = build(settings).start()
    seed_demo_customers(kiosk.store, settings.customer_hash_key)
    yield kiosk
    kiosk.close()

"""The e-mail step with a real SMTP server on loopback, and with none."""

import re

import pytest

from kiosk.identity.demo import seed_demo_customers
from tests.conftest import free_port
from tests.walker import Walker


def make_app(app_config, smtp_url):
    from kiosk.web import create_app

    app = create_app({**app_config, "smtp_url": smtp_url})
    services = app.extensions["kiosk"]
    seed_demo_customers(services.store, services.settings.customer_hash_key)
    return app


def test_the_code_arrives_by_smtp_and_opens_the_next_step(app_config, smtp_server):
    app = make_app(app_config, smtp_server.url)
    walker = Walker(app, app.test_client())
    walker.to_email()
    message = smtp_server.wait_for(1)
    assert message["To"] == "hong@example.com"
    code = re.search(r"\b(\d{6})\b", message.get_content()).group(1)
    response = walker.post("/journey/email", {"code": code})
    assert response.headers["Location"].endswith("/journey/password")


def test_smtp_down_gives_a_polite_message_and_keeps_the_place(app_config, caplog):
    app = make_app(app_config, f"smtp://127.0.0.1:{free_port()}")
    walker = Walker(app, app.test_client())
    walker.to_email()
    page = walker.client.get("/journey/email")
    assert page.status_code == 200
    assert "인증번호 메일을 보내지 못했습니다" in page.get_data(as_text=True)
    assert walker.current_step() == "email"
    assert any("email.send_failed" in r.getMessage() for r in caplog.records)
    failures = sum("email.send_failed" in r.getMessage() for r in caplog.records)
    walker.client.get("/journey/email")
    assert sum("email.send_failed" in r.getMessage() for r in caplog.records) == failures  # no retry by GET


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5😀"])
def test_a_malformed_code_does_not_use_up_a_try(app_config, smtp_server, code):
    app = make_app(app_config, smtp_server.url)
    walker = Walker(app, app.test_client())
    walker.to_email()
    walker.post("/journey/email", {"code": code})
    assert walker.visit().challenge.tries == 0


def test_resend_after_smtp_came_back_sends_the_first_code(app_config, smtp_server):
    app = make_app(app_config, f"smtp://127.0.0.1:{free_port()}")
    walker = Walker(app, app.test_client())
    walker.to_email()
    app.extensions["kiosk"].code_sender.port = smtp_server.controller.port
    response = walker.post("/journey/email/resend")
    assert response.status_code == 200
    assert smtp_server.wait_for(1)["To"] == "hong@example.com"

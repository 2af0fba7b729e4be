"""The staff console: sign-in with lockout, idle expiry, audited actions."""

from importlib import metadata

import pytest

from kiosk.staff import add_staff
from tests.walker import Walker

PIN = "482916"


@pytest.fixture(autouse=True)
def staff_member(app):
    add_staff(app.extensions["kiosk"].store, "김직원", PIN)


def sign_in(client, pin=PIN):
    return client.post("/staff/sign-in", data={"name": "김직원", "pin": pin})


def test_staff_pages_without_sign_in_go_to_the_sign_in_page(client):
    for path in ("/staff", "/staff/state"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["Location"].endswith("/staff/sign-in")
    assert client.post("/staff/reset").headers["Location"].endswith("/staff/sign-in")


def test_signing_in_shows_the_console(client):
    assert sign_in(client).headers["Location"].rstrip("/").endswith("/staff")
    page = client.get("/staff").get_data(as_text=True)
    assert "키오스크 상태" in page
    assert f"버전 {metadata.version('cert-kiosk')}" in page  # off the A/B appliance: no slot
    assert "시스템 슬롯" not in page


def test_the_staff_cookie_is_httponly_strict_and_scoped_to_staff(client):
    sign_in(client)
    cookie = client.get_cookie("kiosk_staff", path="/staff")
    assert cookie.http_only and cookie.same_site == "Strict" and cookie.path == "/staff"


def test_five_wrong_pins_lock_sign_in_for_five_minutes(client, clock):
    for _ in range(5):
        assert sign_in(client, "000000").status_code == 401
    assert sign_in(client).status_code == 429
    clock.advance(299)
    assert sign_in(client).status_code == 429
    clock.advance(2)
    assert sign_in(client).status_code == 303


def test_a_staff_session_ends_after_five_idle_minutes(client, clock):
    sign_in(client)
    clock.advance(299)
    assert client.get("/staff").status_code == 200
    clock.advance(300)
    assert client.get("/staff").status_code == 303


def test_staff_reset_sends_the_customer_back_to_the_attract_screen(app, clock):
    customer = Walker(app, app.test_client())
    customer.to_password()
    staff = app.test_client()
    sign_in(staff)
    staff.post("/staff/reset")
    response = customer.client.get("/journey/password")
    assert response.headers["Location"].endswith("/")
    actions = [e["action"] for e in app.extensions["kiosk"].audit.recent()]
    assert "session.reset_by_staff" in actions


def test_out_of_service_shows_on_the_customer_screen_and_refuses_a_start(app, client):
    assert "화면을 터치하여 시작하세요" in client.get("/").get_data(as_text=True)
    staff = app.test_client()
    sign_in(staff)
    staff.post("/staff/service", data={"out_of_service": "1"})
    assert "점검 중" in client.get("/").get_data(as_text=True)
    client.post("/start")
    assert client.get("/journey/service").headers["Location"].endswith("/")
    staff.post("/staff/service", data={"out_of_service": "0"})
    assert "화면을 터치하여 시작하세요" in client.get("/").get_data(as_text=True)


def test_staff_unlock_after_checking_the_id_lets_the_customer_in_again(app):
    from tests.walker import HONG

    customer = Walker(app, app.test_client())
    customer.to_account()
    for _ in range(5):
        customer.post("/journey/account", {"account": HONG.account, "pin": "0000"})
    staff = app.test_client()
    sign_in(staff)
    page = staff.post("/staff/unlock", data={"rrn": HONG.rrn}).get_data(as_text=True)
    assert "900101-1******" in page and HONG.rrn not in page
    customer.post("/reset")
    assert customer.to_account().headers["Location"].endswith("/journey/account")


def test_the_console_shows_no_personal_data(app):
    from tests.walker import HONG

    customer = Walker(app, app.test_client())
    customer.to_password()
    staff = app.test_client()
    sign_in(staff)
    page = staff.get("/staff/state").get_data(as_text=True)
    assert "password" in page  # the customer's current step
    for secret in (HONG.name, HONG.rrn, HONG.rrn.replace("-", ""), HONG.account, HONG.email):
        assert secret not in page


def test_kiosk_init_demo_creates_the_readme_demo_staff_member(data_dir):
    import os
    import subprocess
    import sys

    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir), "KIOSK_MODE": "demo"}
    subprocess.run([sys.executable, "-m", "kiosk", "init", "--demo"], env=env, check=True, capture_output=True)
    from kiosk.web import create_app

    app = create_app({"data_dir": data_dir, "TESTING": True, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    response = client.post("/staff/sign-in", data={"name": "데모직원", "pin": "246810"})
    assert response.status_code == 303 and response.headers["Location"].rstrip("/").endswith("/staff")
    app.extensions["kiosk"].store.close_all()


def test_in_demo_mode_staff_plug_the_ejected_demo_sticks_back_in(client, app):
    from tests.http_customer import insert_drive

    drive = insert_drive(app)
    app.extensions["kiosk"].drives.eject(drive.id)   # as after an issuance
    sign_in(client)
    page = client.post("/staff/demo-drives/reinsert").get_data(as_text=True)
    assert "데모 USB 1개를 다시 꽂았습니다." in page
    actions = [e["action"] for e in app.extensions["kiosk"].audit.recent()]
    assert "demo.drives_reinserted" in actions

"""The foundation as a customer and a technician meet it: the attract screen, headers, CSRF, errors."""

import os
import subprocess
import sys
import urllib.request


def test_attract_screen_invites_a_touch(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "화면을 터치하여 시작하세요" in page.get_data(as_text=True)


def test_every_page_forbids_caching_framing_and_inline_script(client):
    headers = client.get("/").headers
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]


def test_a_post_without_csrf_token_gets_a_polite_400(app):
    app.config["WTF_CSRF_ENABLED"] = True
    response = app.test_client().post("/language", data={"lang": "en"})
    assert response.status_code == 400
    assert "처음 화면에서 다시 시작해 주세요" in response.get_data(as_text=True)


def test_an_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/screen")
    assert response.status_code == 404
    assert "처음으로" in response.get_data(as_text=True)


def test_switching_to_english_translates_the_screen(client):
    client.get("/")
    client.post("/language", data={"lang": "en", "next": "/"})
    assert "Touch the screen to start" in client.get("/").get_data(as_text=True)


def test_the_cookie_carries_only_an_opaque_id(client):
    client.post("/language", data={"lang": "en", "next": "/"})
    cookie = client.get_cookie("kiosk_sid")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert "en" not in cookie.value.lower().split(".")  # nothing readable: just a random token
    assert len(cookie.value) >= 40


def test_the_real_server_serves_the_attract_screen(live_server):
    with urllib.request.urlopen(live_server.url + "/", timeout=30) as response:
        assert response.status == 200
        assert "화면을 터치하여 시작하세요" in response.read().decode()


def test_kiosk_init_is_idempotent(data_dir):
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir), "KIOSK_MODE": "demo"}
    for _ in range(2):
        result = subprocess.run([sys.executable, "-m", "kiosk", "init", "--demo"], env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    assert (data_dir / "kiosk.sqlite3").exists()


def test_production_mode_refuses_to_serve_with_demo_secrets(data_dir):
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir), "KIOSK_MODE": "production"}
    result = subprocess.run([sys.executable, "-m", "kiosk", "serve"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "KIOSK_SECRET_KEY" in result.stderr


def test_the_server_keeps_serving_with_descriptors_past_1024(app):
    """select() breaks past fd 1024; the server must use poll() (found when a long test run hung)."""
    from tests.conftest import LiveServer

    spare = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        server = LiveServer(app).start()
        try:
            with urllib.request.urlopen(server.url + "/", timeout=10) as response:
                assert response.status == 200
        finally:
            server.stop()
    finally:
        for fd in spare:
            os.close(fd)

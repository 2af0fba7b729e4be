"""HTTP hardening: size limits and a friendly page for every error status."""

import pytest


def test_a_huge_form_is_refused_politely(client):
    response = client.post("/journey/identity", data={"name": "가" * 200_000})
    assert response.status_code == 413
    assert "처음으로" in response.get_data(as_text=True)


@pytest.mark.parametrize("method, path, status", [
    ("get", "/nope", 404),
    ("delete", "/", 405),
    ("put", "/journey/identity", 405),
])
def test_every_error_status_has_a_friendly_page(client, method, path, status):
    response = getattr(client, method)(path)
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert "처음으로" in page and "Traceback" not in page


def test_an_htmx_request_gets_the_error_as_a_fragment(client):
    response = client.get("/nope", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert "<html" not in response.get_data(as_text=True)


def test_staff_pages_are_not_cached_either(client):
    assert client.get("/staff/sign-in").headers["Cache-Control"] == "no-store"


def test_a_bug_shows_a_polite_page_and_logs_the_traceback_for_the_technician(app, caplog):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("bug")

    response = app.test_client().get("/boom-for-test")
    assert response.status_code == 500
    assert "잠시 문제가 생겼습니다" in response.get_data(as_text=True)
    assert any("http.unhandled" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_reset_after_the_server_already_expired_the_session_lands_on_the_attract_screen(app):
    """The idle countdown on the screen and the server's own expiry race; the reset must never show a
    'stale page' error."""
    app.config["WTF_CSRF_ENABLED"] = True
    response = app.test_client().post("/reset", data={"csrf_token": "stale"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/")

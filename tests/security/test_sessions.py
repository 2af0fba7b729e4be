"""Session lifecycle with a clock moved by hand: idle warning window, reset, hard limit, wipe."""


def test_a_touch_within_the_warning_keeps_the_customer_in_place(walker, clock):
    walker.to_password()
    clock.advance(79)
    assert walker.client.get("/journey/password").status_code == 200


def test_after_idle_plus_warning_the_session_is_reset(walker, clock, app):
    walker.to_password()
    visit = walker.visit()
    clock.advance(80)
    app.extensions["kiosk.sessions"].reap()
    assert walker.client.get("/journey/password").headers["Location"].endswith("/")
    assert visit.customer is None and visit.rrn == "" and visit.password == ""


def test_more_time_restarts_the_idle_timer(walker, clock):
    walker.to_password()
    clock.advance(70)
    assert walker.post("/session/extend").status_code == 204
    clock.advance(70)
    assert walker.client.get("/journey/password").status_code == 200


def test_polling_does_not_keep_an_abandoned_session_alive(walker, clock, app):
    walker.to_password()
    for _ in range(10):
        clock.advance(10)
        walker.client.get("/journey/issuing/status", headers={"X-Kiosk-Poll": "1"})
    app.extensions["kiosk.sessions"].reap()
    assert walker.client.get("/journey/password").headers["Location"].endswith("/")


def test_the_hard_limit_ends_even_a_busy_session(walker, clock):
    walker.to_password()
    for _ in range(16):
        clock.advance(59)
        walker.client.get("/journey/password")
    assert walker.client.get("/journey/password").headers["Location"].endswith("/")


def test_after_a_reset_the_back_button_shows_nothing_of_the_customer(walker):
    from tests.walker import HONG

    walker.to_password()
    walker.post("/reset")
    for path in ("/journey/identity", "/journey/account", "/journey/email", "/journey/password"):
        response = walker.client.get(path, follow_redirects=True)
        page = response.get_data(as_text=True)
        assert HONG.name not in page and "h***@example.com" not in page
        assert response.headers["Cache-Control"] == "no-store"

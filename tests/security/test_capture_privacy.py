"""The ID card's picture (issue 25) exists only in memory for the read: after real captures over HTTP to
the real server (waitress, CSRF on), no byte of any picture is in the data directory, the temporary
directory, the app's log output or the metrics; no temporary file was even opened (waitress spools a
large body to one unless told not to); a body past MAX_CAPTURE_BYTES is refused before it is read.
Bad pictures (no card, half a card, corrupt, enormous) and a flood of captures get a polite message with
the keyboard offered, never a 500."""

from __future__ import annotations

import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client import generate_latest

from kiosk.idcard import MAX_CAPTURE_BYTES
from kiosk.idcard.specimen import demo_faces
from kiosk.web.views.camera import MAX_CAPTURE_FAILURES, MAX_CAPTURES_PER_MINUTE
from tests.http_customer import Customer, walk_to_identity
from tests.idcard.cards import Distortion, capture, half_a_card, not_a_card
from tests.walker import HONG

CAPTURE = "/journey/identity/capture"


def hong_card(**distortion) -> bytes:
    return capture(next(f for f in demo_faces() if f.name == HONG.name), Distortion(**distortion))


def post_picture(customer: Customer, body: bytes, content_type: str = "image/jpeg") -> tuple[int, str]:
    request = urllib.request.Request(customer.base + CAPTURE, data=body, method="POST", headers={
        "Content-Type": content_type, "X-CSRFToken": customer.token, "Origin": customer.base})
    try:
        with customer.opener.open(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def problem(page: str) -> str:
    found = re.search(r'id="card-problem">([^<]*)<', page)
    return found.group(1) if found else ""


def pieces(picture: bytes) -> list[bytes]:
    """Three 48-byte runs from inside the picture's compressed data: what a copy anywhere would contain."""
    n = len(picture)
    return [picture[i:i + 48] for i in (n // 4, n // 2, 3 * n // 4)]


def files_holding(roots: list[Path], needles: list[bytes]) -> list[str]:
    found = []
    for root in roots:
        for path in root.rglob("*"):
            try:
                if path.is_file() and not path.is_symlink() and path.stat().st_size < 64 * 1024 * 1024:
                    data = path.read_bytes()
                    found += [str(path) for needle in needles if needle in data]
            except OSError:
                continue
    return found


def test_captures_leave_no_trace_on_disk_in_logs_or_metrics(app, live_server, data_dir, tmp_path, monkeypatch,
                                                            caplog, capfd):
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))     # where any temporary file of the process goes
    opened = []
    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        real = getattr(tempfile, name)
        monkeypatch.setattr(tempfile, name, lambda *a, _real=real, _name=name, **k: opened.append(_name) or _real(*a, **k))
    pictures = [hong_card(rotation=1.5, seed=1), not_a_card(3), half_a_card(demo_faces()[0]),
                hong_card(upside_down=True, seed=2), hong_card(seed=4)[:5000]]
    customer = Customer(live_server.url)
    walk_to_identity(customer)
    answers = [post_picture(customer, picture) for picture in pictures]

    statuses = [status for status, _page in answers]
    assert statuses[0] == 200 and 'id="confirm-form"' in answers[0][1]       # read: the confirm screen
    assert all(status in (200, 422) for status in statuses), statuses
    assert opened == []
    needles = [piece for picture in pictures for piece in pieces(picture)]
    assert files_holding([data_dir, temp, Path(tempfile.gettempdir())], needles) == []
    logged = caplog.text + "".join(capfd.readouterr())
    metrics = generate_latest(app.extensions["kiosk"].metrics.registry).decode()
    for text in (logged, metrics):
        assert not any(piece.decode("latin-1") in text for piece in needles)
        assert HONG.rrn.replace("-", "") not in text and HONG.rrn not in text      # nor what was read
    assert "identity.card_read" in logged


def test_an_enormous_body_is_refused_before_it_is_read(app, live_server):
    """Waitress answers 413 from the Content-Length alone: no byte of the body is taken in."""
    import http.client
    from urllib.parse import urlsplit

    customer = Customer(live_server.url)
    walk_to_identity(customer)
    cookie = "; ".join(f"{c.name}={c.value}" for c in customer.jar)
    connection = http.client.HTTPConnection(urlsplit(live_server.url).netloc, timeout=30)
    connection.putrequest("POST", CAPTURE)
    for name, value in (("Content-Type", "image/jpeg"), ("Content-Length", str(MAX_CAPTURE_BYTES + 1)),
                        ("X-CSRFToken", customer.token), ("Origin", customer.base), ("Cookie", cookie)):
        connection.putheader(name, value)
    connection.endheaders()                    # the headers only: the answer comes before any body
    assert connection.getresponse().status == 413
    connection.close()
    server = live_server.server
    assert server.adj.max_request_body_size <= MAX_CAPTURE_BYTES + 1
    assert server.adj.inbuf_overflow > MAX_CAPTURE_BYTES      # anything smaller stays in memory
    customer.get("/journey/identity")
    assert customer.url.endswith("/journey/identity") and customer.status == 200


def test_bad_pictures_get_a_polite_message_and_the_keyboard_offered(walker, client):
    walker.to_identity()
    oversized = client.post(CAPTURE, data=b"\0" * (MAX_CAPTURE_BYTES + 1), content_type="image/jpeg")
    assert oversized.status_code == 413
    page = oversized.get_data(as_text=True)
    assert "너무 큽니다" in page and 'id="identity-keyboard"' in page
    corrupt = client.post(CAPTURE, data=b"\xff\xd8\xff\xe0 not really a jpeg", content_type="image/jpeg")
    assert corrupt.status_code == 422 and "사진을 읽지 못했습니다" in corrupt.get_data(as_text=True)
    # the third failure: the keyboard form, with the reason
    wrong_type = client.post(CAPTURE, data=b"hello", content_type="text/plain")
    assert wrong_type.status_code == 415
    page = wrong_type.get_data(as_text=True)
    assert MAX_CAPTURE_FAILURES == 3 and 'id="identity-form"' in page and 'id="card-problem"' in page
    assert walker.visit().reading is None


def test_a_flood_of_captures_is_answered_politely_and_unread(walker, client, caplog):
    walker.to_identity()
    statuses = [client.post(CAPTURE, data=b"\xff\xd8 no", content_type="image/jpeg").status_code
                for _ in range(MAX_CAPTURES_PER_MINUTE + 3)]
    assert statuses[-1] == 429 and statuses.count(429) == 3, statuses
    assert "너무 자주 찍었습니다" in client.post(CAPTURE, data=b"x", content_type="image/jpeg").get_data(as_text=True)
    assert caplog.text.count("identity.card_not_read") == MAX_CAPTURES_PER_MINUTE


def test_a_licence_the_check_does_not_know_so_is_refused_and_counted_like_a_wrong_pin(walker, client, app):
    """김영희's 운전면허증, read by the camera and confirmed with another printed serial: the directory
    knows her, the authenticity check does not know that card; the failure counts towards her lock."""
    from kiosk.identity.demo import DEMO_CUSTOMERS
    from kiosk.pii import customer_key

    kim = next(c for c in DEMO_CUSTOMERS if c.id_kind == "driver_license")
    walker.to_identity()
    card = capture(next(f for f in demo_faces() if f.name == kim.name), Distortion(seed=6))
    assert client.post(CAPTURE, data=card, content_type="image/jpeg").status_code == 200
    form = {"name": kim.name, "rrn_front": kim.rrn[:6], "rrn_back": "", "id_kind": "driver_license",
            "issue_date": kim.id_issue_date.replace("-", ""), "licence_number": kim.licence_number,
            "licence_serial": "ZZZZ99"}
    response = client.post("/journey/identity/confirm", data=form)
    assert response.status_code == 422
    assert "신분증 진위확인에서 신분증 정보가 맞지 않았습니다" in response.get_data(as_text=True)
    key = customer_key(app.extensions["kiosk"].settings.customer_hash_key, kim.rrn.replace("-", ""))
    assert app.extensions["kiosk"].lockouts.failures(key) == 1
    form["licence_serial"] = kim.licence_serial
    response = client.post("/journey/identity/confirm", data=form)
    assert response.status_code == 303 and response.headers["Location"].endswith("/journey/account")
    assert app.extensions["kiosk"].lockouts.failures(key) == 0         # a match forgives, as a right PIN does


def test_a_card_reported_lost_is_refused_with_its_own_message(walker, client):
    from kiosk.identity.demo import DEMO_CUSTOMERS
    from tests.walker import identity_form

    lost = next(c for c in DEMO_CUSTOMERS if c.name == "정하늘")
    walker.to_identity()
    response = client.post("/journey/identity", data=identity_form(lost))
    assert response.status_code == 422 and "분실 신고된 신분증입니다" in response.get_data(as_text=True)

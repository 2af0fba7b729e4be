"""The live drive list over SSE through the real waitress server, and its polling fallback."""

from __future__ import annotations

import http.client
import time

from hardware.demo import insert_demo_drive
from tests.http_customer import insert_drive


def read_event(response, deadline: float) -> tuple[str, str]:
    """One SSE message (event name, joined data), skipping heartbeat comments."""
    name, data = "", []
    while time.monotonic() < deadline:
        line = response.fp.readline().decode()
        assert line, "the stream ended"
        line = line.rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and name:
            return name, "\n".join(data)
    raise AssertionError("no event before the deadline")


def open_stream(live_server):
    connection = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=10)
    connection.request("GET", "/drives/stream")
    return connection, connection.getresponse()


def test_the_stream_sends_the_list_at_once_and_a_new_stick_when_it_arrives(live_server, data_dir):
    connection, response = open_stream(live_server)
    try:
        assert response.status == 200
        assert response.getheader("Content-Type").startswith("text/event-stream")
        assert response.getheader("X-Accel-Buffering") == "no"
        assert response.getheader("Cache-Control") == "no-store"
        name, html = read_event(response, time.monotonic() + 5)
        assert name == "drives" and "USB를 꽂아 주세요" in html

        drive = insert_demo_drive(data_dir, "stick", label="우체국 USB")
        name, html = read_event(response, time.monotonic() + 5)   # how fast: bench/hotplug
        assert f'value="{drive.id}"' in html and "우체국 USB" in html and 'class="button drive"' in html
    finally:
        response.close()
        connection.close()


def test_a_closed_stream_unsubscribes(app, live_server, data_dir):
    app.config["DRIVES_HEARTBEAT_SECONDS"] = 0.1
    manager = app.extensions["kiosk"].drives
    before = manager.subscriber_count  # the kiosk's own (the fleet's drive events)
    connection, response = open_stream(live_server)
    read_event(response, time.monotonic() + 5)
    assert manager.subscriber_count == before + 1
    response.close()
    connection.close()
    deadline = time.monotonic() + 5
    while manager.subscriber_count > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert manager.subscriber_count == before


def test_the_polling_fallback_lists_usable_and_greyed_drives(app, client):
    insert_drive(app, "good")
    insert_drive(app, "locked", read_only=True)
    html = client.get("/drives/list").get_data(as_text=True)
    assert html.count('name="drive_id"') == 1
    assert "disabled" in html and "쓰기 금지된 저장장치" in html
    assert "67.1 MB" in html

"""The pictures of issue 19 beyond what test_screens.py measures on every screen: the USB port drawn
where KIOSK_USB_PORT_POSITION says, the stick's slide stopped for prefers-reduced-motion, the issuing
picture following the worker's stages, and the partials (the four of issue 19 and the card-holding one of issue
25) kept small."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.journey.visit import STAGES, IssuingRun
from tests.walker import GOOD_PASSWORD

PICTURES = Path(__file__).resolve().parents[2] / "templates" / "pictures"


def walk_to_drive(walker) -> None:
    walker.to_password()
    walker.post("/journey/password", {"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    assert walker.current_step() == "drive"


@pytest.fixture
def app_config(app_config, request):
    return {**app_config, "usb_port_position": getattr(request, "param", "front-right")}


@pytest.mark.parametrize(("app_config", "cx"), [("front-right", "295"), ("side-left", "80")],
                         indirect=["app_config"])
def test_the_usb_port_is_drawn_where_the_setting_says(app_config, walker, cx):
    walk_to_drive(walker)
    page = walker.client.get("/journey/drive").get_data(as_text=True)
    position = app_config["usb_port_position"]
    assert f'data-port="{position}"' in page
    assert re.search(rf'<circle class="pic-mark" cx="{cx}"', page)
    side = "왼쪽 옆면" if position == "side-left" else "받침의 오른쪽"
    assert side in page.split('id="usb-picture-title"')[1].split("</title>")[0]


def test_the_issuing_picture_follows_the_stages(app):
    from flask import render_template

    run = IssuingRun()
    run.mark("prepare", "done")
    run.mark("write", "active")
    with app.test_request_context():
        html = render_template("customer/_issuing_stages.html", run=run, stages=STAGES)
    assert 'data-done="1"' in html and "4단계 중 1단계를 마쳤습니다" in html
    assert html.count("pic-cell-done") == 1 and html.count("pic-cell-active") == 1


def test_the_picture_partials_stay_small():
    sizes = {p.name: p.stat().st_size for p in PICTURES.glob("*.svg.html")}
    assert len(sizes) == 5 and max(sizes.values()) < 4096, sizes


@pytest.mark.browser
@pytest.mark.parametrize(("motion", "animation"), [("no-preference", "usb-slide"), ("reduce", "none")])
def test_the_stick_slides_in_unless_motion_is_reduced(app, walker, page, live_server, motion, animation):
    app.config["WTF_CSRF_ENABLED"] = False        # the walker posts without tokens; the browser only looks
    walk_to_drive(walker)
    app.config["WTF_CSRF_ENABLED"] = True
    app.config["DRIVES_HEARTBEAT_SECONDS"] = 0.2    # the stream notices the page has gone, before teardown
    sid = walker.client.get_cookie("kiosk_sid").value
    page.context.add_cookies([{"name": "kiosk_sid", "value": sid, "url": live_server.url}])
    page.emulate_media(reduced_motion=motion)
    page.goto("/journey/drive")
    stick = page.locator("#usb-picture .usb-stick")
    assert stick.evaluate("el => getComputedStyle(el).animationName") == animation
    assert page.locator("#usb-picture-title").text_content()
    page.goto("about:blank")           # leave the drive list's event stream, and let the server see it go
    page.wait_for_timeout(600)

import pytest

pytestmark = pytest.mark.browser


def test_attract_screen_renders_hangul_in_chromium(page):
    page.goto("/")
    start = page.locator("#start")
    assert start.inner_text() == "화면을 터치하여 시작하세요"
    box = start.bounding_box()
    assert box["height"] >= 80  # touch target, UX.md

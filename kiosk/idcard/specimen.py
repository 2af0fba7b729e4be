"""Card specimens: a 주민등록증 or 운전면허증 drawn with Pillow and the Noto CJK font, at the positions of
kiosk.idcard.layout — to print or show on a phone to the kiosk's camera (`kiosk demo-cards DIR`), and
what the tests and the benchmark distort and read.

A specimen says SPECIMEN (견본) across it and holds only demo data: it is no likeness of a real card's
security print (guilloche, hologram, ghost image), which a pilot calibrates against (docs/idcard.md).
The font is Debian's fonts-noto-cjk (a dependency of the package already: the screens use it); it is
found by its file name under the font folders, its Korean face by name inside the collection.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kiosk.idcard.layout import (
    CARD_HEIGHT_MM,
    CARD_WIDTH_MM,
    DRIVER_LICENSE,
    LAYOUTS,
    PX_PER_MM,
    RESIDENT_CARD,
    Box,
)

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", os.path.expanduser("~/.local/share/fonts"))
FONT_FILES = {"regular": ("NotoSansCJK-Regular.ttc", "NotoSansCJKkr-Regular.otf"),
              "bold": ("NotoSansCJK-Bold.ttc", "NotoSansCJKkr-Bold.otf", "NotoSansCJK-Regular.ttc")}


class FontMissing(RuntimeError):
    """fonts-noto-cjk is not installed."""


@dataclass(frozen=True)
class CardFace:
    """What is printed on one card."""
    kind: str
    name: str
    rrn: str                   # 13 digits
    issue_date: date
    hanja: str = ""
    address: str = "서울특별시 종로구 세종대로 209"
    issuer: str = ""
    licence_number: str = ""
    licence_serial: str = ""
    licence_class: str = "1종보통"


def _font_file(weight: str) -> Path:
    for folder in FONT_DIRS:
        root = Path(folder)
        if not root.is_dir():
            continue
        for file_name in FONT_FILES[weight]:
            for found in sorted(root.rglob(file_name)):
                return found
    raise FontMissing("the Noto CJK font is missing: apt-get install fonts-noto-cjk")


@lru_cache(maxsize=64)
def font(size: int, weight: str = "regular") -> ImageFont.FreeTypeFont:
    """The Korean face of Noto Sans CJK at `size` px (a .ttc holds JP, KR, SC, TC, HK: pick KR by name)."""
    path = _font_file(weight)
    if path.suffix != ".ttc":
        return ImageFont.truetype(str(path), size)
    for index in range(10):
        try:
            face = ImageFont.truetype(str(path), size, index=index)
        except OSError:
            break
        if face.getname()[0].endswith(" KR"):
            return face
    return ImageFont.truetype(str(path), size)


def _px(mm: float) -> int:
    return round(mm * PX_PER_MM)


def _text(draw: ImageDraw.ImageDraw, box: Box, text: str, weight: str = "regular",
          fill=(20, 20, 24), fill_height: float = 0.78, align: str = "left") -> None:
    """`text` in `box`, its height a share of the box's, shrunk to fit the box's width."""
    size = max(8, round(box.h * PX_PER_MM * fill_height))
    face = font(size, weight)
    while size > 8 and draw.textlength(text, font=face) > box.w * PX_PER_MM:
        size -= 1
        face = font(size, weight)
    left, top, right, bottom = box.pixels()
    x = left if align == "left" else (left + right - draw.textlength(text, font=face)) / 2
    draw.text((x, (top + bottom) / 2), text, font=face, fill=fill, anchor="lm")


def _background(kind: str) -> Image.Image:
    """A pale card with a faint wave pattern, as security print is (low contrast, behind the text)."""
    width, height = _px(CARD_WIDTH_MM), _px(CARD_HEIGHT_MM)
    base = (232, 238, 240) if kind == RESIDENT_CARD else (240, 236, 224)
    line = (214, 224, 230) if kind == RESIDENT_CARD else (226, 218, 200)
    card = Image.new("RGB", (width, height), base)
    draw = ImageDraw.Draw(card)
    for n in range(0, height + 60, 9):
        points = [(x, n + 6 * math.sin(x / 37.0 + n / 23.0)) for x in range(0, width + 10, 10)]
        draw.line(points, fill=line, width=1)
    centre = (_px(CARD_WIDTH_MM * 0.62), _px(CARD_HEIGHT_MM * 0.55))
    for radius in range(40, 260, 22):
        draw.ellipse([centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius],
                     outline=line, width=1)
    return card


def _photo(draw: ImageDraw.ImageDraw, box: Box) -> None:
    left, top, right, bottom = box.pixels()
    draw.rectangle([left, top, right, bottom], fill=(196, 202, 210), outline=(150, 156, 166), width=2)
    cx, w, h = (left + right) / 2, right - left, bottom - top
    draw.ellipse([cx - w * 0.22, top + h * 0.16, cx + w * 0.22, top + h * 0.52], fill=(120, 126, 138))
    draw.pieslice([cx - w * 0.42, top + h * 0.58, cx + w * 0.42, bottom + h * 0.45], 180, 360,
                  fill=(120, 126, 138))


def _seal(draw: ImageDraw.ImageDraw, box: Box) -> None:
    left, top, right, bottom = box.pixels()
    size = bottom - top
    x = right - size
    draw.rectangle([x, top, x + size, bottom], outline=(200, 40, 40), width=3)
    draw.ellipse([x + size * 0.2, top + size * 0.2, x + size * 0.8, top + size * 0.8], outline=(200, 40, 40),
                 width=2)


def _date_text(when: date) -> str:
    return f"{when.year}. {when.month}. {when.day}."


def draw_card(face: CardFace) -> Image.Image:
    """The card at PX_PER_MM (1027 × 648 px), RGB."""
    layout = LAYOUTS[face.kind]
    card = _background(face.kind)
    draw = ImageDraw.Draw(card)
    _text(draw, layout.title_box, layout.title, weight="bold", fill=(24, 40, 90), fill_height=0.8)
    _photo(draw, layout.photo)
    rrn = f"{face.rrn[:6]}-{face.rrn[6:]}"
    name = f"{face.name}({face.hanja})" if face.hanja else face.name
    _text(draw, layout.name, name, weight="bold")
    _text(draw, layout.rrn, rrn)
    address_box = layout.address
    half = Box(address_box.x, address_box.y, address_box.w, address_box.h / 2)
    words = face.address.split(" ")
    cut = max(1, len(words) * 2 // 3)
    _text(draw, half, " ".join(words[:cut]), fill_height=0.72)
    _text(draw, Box(half.x + 2, half.y + half.h, half.w - 2, half.h), " ".join(words[cut:]) or " ",
          fill_height=0.72)
    _text(draw, layout.issue_date, _date_text(face.issue_date))
    issuer = face.issuer or ("서울특별시 종로구청장" if face.kind == RESIDENT_CARD else "서울특별시경찰청장")
    _text(draw, Box(layout.issuer.x, layout.issuer.y, layout.issuer.w - layout.issuer.h - 1, layout.issuer.h),
          issuer, weight="bold", fill_height=0.7)
    _seal(draw, layout.issuer)
    if face.kind == DRIVER_LICENSE:
        _text(draw, layout.licence_class, face.licence_class, fill_height=0.8)
        _text(draw, layout.licence_number, face.licence_number, weight="bold", fill_height=0.8)
        _text(draw, layout.serial, face.licence_serial, fill_height=0.8, align="centre")
        renew_from = date(face.issue_date.year + 10, 1, 1)
        _text(draw, layout.renewal,
              f"적성검사기간 {renew_from:%Y.%m.%d}~{date(renew_from.year, 12, 31):%Y.%m.%d}", fill_height=0.72)
    _specimen_mark(card, face.kind)
    return card


def _specimen_mark(card: Image.Image, kind: str) -> None:
    """견본 SPECIMEN in pale red under the photo, where it covers no field that is read."""
    draw = ImageDraw.Draw(card)
    photo = LAYOUTS[kind].photo
    where = (_px(photo.x + photo.w / 2), _px(photo.y + photo.h + (4.5 if kind == RESIDENT_CARD else 10.5)))
    draw.text(where, "견본 SPECIMEN", font=font(_px(2.6), "bold"), fill=(222, 150, 150), anchor="mm")


# what is printed on the demo customers' cards beyond what the directory holds
DEMO_CARD_EXTRAS = {
    "홍길동": ("洪吉童", "서울특별시 종로구 세종대로 209", "서울특별시 종로구청장"),
    "김영희": ("金英姬", "부산광역시 해운대구 센텀중앙로 79", "부산광역시경찰청장"),
    "이철수": ("李哲洙", "대전광역시 서구 둔산로 100", "대전광역시 서구청장"),
    "박서연": ("朴瑞妍", "경기도 수원시 팔달구 효원로 241", "수원시 팔달구청장"),
    "존스미스": ("", "서울특별시 용산구 이태원로 22", "서울특별시 용산구청장"),
}


def demo_faces() -> list[CardFace]:
    """The card of every demo customer (kiosk.identity.demo), as `kiosk demo-cards` draws them."""
    from kiosk.identity.demo import DEMO_CUSTOMERS

    faces = []
    for customer in DEMO_CUSTOMERS:
        hanja, address, issuer = DEMO_CARD_EXTRAS.get(customer.name, ("", "서울특별시 중구 세종대로 110",
                                                                      "서울특별시 중구청장"))
        faces.append(CardFace(
            kind=customer.id_kind, name=customer.name, rrn=customer.rrn.replace("-", ""),
            issue_date=date.fromisoformat(customer.id_issue_date), hanja=hanja, address=address,
            issuer=issuer, licence_number=getattr(customer, "licence_number", ""),
            licence_serial=getattr(customer, "licence_serial", "")))
    return faces


DPI = round(PX_PER_MM * 25.4)   # 305: a printer given the PNG's dpi prints it at the card's size


def card_png(face: CardFace) -> bytes:
    buffer = BytesIO()
    draw_card(face).save(buffer, "PNG", dpi=(PX_PER_MM * 25.4, PX_PER_MM * 25.4))
    return buffer.getvalue()


CAMERA_FRAME = (1280, 720)   # what Debian's Chromium gives from a fake capture file (../shared/IDCARD.md)


def camera_frame(face: CardFace, width_share: float = 0.62) -> bytes:
    """The card held still in the middle of a camera's frame, over a dark desk, as a JPEG: what a kiosk
    without a camera (the lab appliance, a developer's machine) plays to Chromium as its camera."""
    card = draw_card(face)
    width = round(CAMERA_FRAME[0] * width_share)
    card = card.resize((width, round(width * card.height / card.width)), Image.Resampling.LANCZOS)
    frame = Image.new("RGB", CAMERA_FRAME, (62, 52, 44))
    frame.paste(card, ((CAMERA_FRAME[0] - card.width) // 2, (CAMERA_FRAME[1] - card.height) // 2))
    buffer = BytesIO()
    frame.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def fake_camera_mjpeg(jpeg_bytes: bytes, frames: int = 30) -> bytes:
    """An .mjpeg (JPEG frames one after another) for Chromium's `--use-file-for-fake-video-capture`,
    which loops it: the same picture `frames` times."""
    if not jpeg_bytes.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    return jpeg_bytes * frames

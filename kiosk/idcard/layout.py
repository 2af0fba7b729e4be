"""Where each field sits on a card: the one layout that both the specimen drawer (kiosk.idcard.specimen)
and the reader (kiosk.idcard.reader) use, so that what is drawn is what is read.

Positions are millimetres from the card's top-left corner on the ID-1 format (85.60 × 53.98 mm, ISO/IEC
7810), the size of both the 주민등록증 and the 운전면허증. They follow the real cards loosely (../shared
/IDCARD.md): the title along the top; for the 주민등록증 the name, resident number and address on the
left, the issue date and the issuing head's title near the bottom, the photo on the right; for the
운전면허증 the photo on the left with the printed serial under it, the licence number, name, resident
number, address and issue date on the right. A pilot measures the real positions on real cards and
changes only this module (docs/idcard.md, "pilot calibration plan").

This module imports nothing: it is a table, not code.
"""

from __future__ import annotations

from dataclasses import dataclass

CARD_WIDTH_MM = 85.60
CARD_HEIGHT_MM = 53.98
CARD_RATIO = CARD_WIDTH_MM / CARD_HEIGHT_MM  # 1.586

# the straightened card is read at this scale (the specimen drawer draws at it too): text of 4 mm is
# about 48 px high, the size Tesseract reads best
PX_PER_MM = 12

RESIDENT_CARD = "resident_card"
DRIVER_LICENSE = "driver_license"
KINDS = (RESIDENT_CARD, DRIVER_LICENSE)


@dataclass(frozen=True)
class Box:
    """A rectangle on the card, in millimetres from its top-left corner."""
    x: float
    y: float
    w: float
    h: float

    def pixels(self, px_per_mm: float = PX_PER_MM, pad_mm: float = 0.0) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in pixels, grown by `pad_mm` on every side, clipped to the card."""
        left = max(0.0, self.x - pad_mm)
        top = max(0.0, self.y - pad_mm)
        right = min(CARD_WIDTH_MM, self.x + self.w + pad_mm)
        bottom = min(CARD_HEIGHT_MM, self.y + self.h + pad_mm)
        return (round(left * px_per_mm), round(top * px_per_mm), round(right * px_per_mm),
                round(bottom * px_per_mm))


@dataclass(frozen=True)
class Layout:
    kind: str
    title: str            # printed along the top; the reader tells the kinds apart by it
    title_words: tuple[str, ...]   # any of these in the title's reading names the kind
    title_box: Box
    photo: Box
    name: Box             # Hangul name, hanja in brackets after it on the 주민등록증
    rrn: Box              # YYMMDD-GNNNNNN
    issue_date: Box       # YYYY. M. D.
    address: Box          # drawn, never read
    issuer: Box           # drawn, never read (the issuing head's title and seal)
    licence_number: Box | None = None   # 운전면허증: NN-YY-NNNNNN-NN
    licence_class: Box | None = None    # 운전면허증: drawn, never read
    serial: Box | None = None           # 운전면허증: the printed anti-forgery serial
    renewal: Box | None = None          # 운전면허증: the renewal period, drawn, never read

    def read_boxes(self) -> dict[str, Box]:
        """The fields the reader reads, by CardReading field name."""
        boxes = {"name": self.name, "rrn": self.rrn, "issue_date": self.issue_date}
        if self.licence_number is not None:
            boxes["licence_number"] = self.licence_number
        if self.serial is not None:
            boxes["licence_serial"] = self.serial
        return boxes


RESIDENT_CARD_LAYOUT = Layout(
    kind=RESIDENT_CARD,
    title="주민등록증",
    title_words=("주민", "등록증", "민등"),
    title_box=Box(5.0, 3.5, 46.0, 8.0),
    photo=Box(59.0, 12.5, 22.0, 26.5),
    name=Box(5.0, 13.0, 50.0, 6.0),
    rrn=Box(5.0, 20.0, 50.0, 6.0),
    address=Box(5.0, 27.5, 52.0, 8.5),
    issue_date=Box(21.0, 38.0, 30.0, 5.0),
    issuer=Box(12.0, 44.0, 48.0, 6.0),
)

DRIVER_LICENSE_LAYOUT = Layout(
    kind=DRIVER_LICENSE,
    title="자동차운전면허증",
    title_words=("운전", "면허", "자동차"),
    title_box=Box(27.0, 2.5, 56.0, 7.5),
    photo=Box(4.0, 11.0, 20.0, 26.0),
    serial=Box(4.0, 39.0, 20.0, 5.0),
    licence_class=Box(27.0, 11.0, 14.0, 5.0),
    licence_number=Box(42.0, 11.0, 40.0, 5.0),
    name=Box(27.0, 17.0, 40.0, 5.5),
    rrn=Box(27.0, 23.0, 40.0, 5.5),
    address=Box(27.0, 29.0, 56.0, 7.5),
    renewal=Box(27.0, 37.0, 56.0, 4.0),
    issue_date=Box(40.0, 42.0, 28.0, 4.5),
    issuer=Box(34.0, 47.0, 48.0, 5.0),
)

# the band along the top where either kind prints its title: read once to tell the kind and which way up
TITLE_BAND = Box(3.0, 1.5, 80.5, 9.5)

LAYOUTS = {RESIDENT_CARD: RESIDENT_CARD_LAYOUT, DRIVER_LICENSE: DRIVER_LICENSE_LAYOUT}

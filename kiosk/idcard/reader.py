"""Reading a card from one camera capture, in memory, offline: find the card, straighten it, read the
fields at their fixed positions (kiosk.idcard.layout) with Tesseract.

Why these parts (measured on this machine, docs/idcard.md):
- Tesseract through `tesserocr`, not `pytesseract`: tesserocr calls libtesseract in the process (its wheel
  bundles the library; the Korean model is Debian's tesseract-ocr-kor, nothing is downloaded), keeps the
  model loaded between reads and takes the pixels from memory (`SetImageBytes`); pytesseract starts the
  `tesseract` binary for every field, writes the crop to a temporary file to hand it over (a capture on
  disk is what issue 25 forbids) and reloads the model each time, several times slower per card.
- Finding and straightening the card with OpenCV's headless wheel (contours, `approxPolyDP`,
  `warpPerspective`, a few milliseconds): a card held by hand is turned, tilted and in front of anything.
  Pillow alone can warp but has no contour finder; writing one is slower and less sure. Its cost is the
  wheel's size on disk (~170 MB with numpy), not run time.
- Fixed field crops read one line each (`PSM.SINGLE_LINE`) with a character whitelist per field:
  IDCARD.md saw the whole-page mode miss the name, the crops read every field.
- Which way up and which kind: the title band along the top is read first ("주민등록증" or
  "자동차운전면허증"); when neither reads, the card is turned 180° and read again.

Bounds: at most MAX_CAPTURE_BYTES in, at most MAX_CAPTURE_PIXELS decoded (checked from the header
before decoding: a decompression bomb is refused unread), JPEG or PNG only, JPEGs decoded at a reduced
scale when large, and every Tesseract call with a timeout.

Threads: a tesserocr API object is not thread-safe, and the machine has few cores, so the reader holds a
small pool of them (`pool_size`, 2 by default: one read per core); a read waits for a free one at most
`wait_seconds`, then gives up as "unreadable" (the customer types instead) rather than piling up behind a
flood of captures.

Nothing is kept: the bytes, the decoded picture and the crops are local variables of `read`; nothing is
written, logged or counted but the outcome (docs/security.md).
"""

from __future__ import annotations

import os
import queue
import threading
import time
import warnings
from io import BytesIO

from kiosk import logs
from kiosk.idcard.layout import (
    CARD_HEIGHT_MM,
    CARD_RATIO,
    CARD_WIDTH_MM,
    DRIVER_LICENSE,
    LAYOUTS,
    PX_PER_MM,
    TITLE_BAND,
    Box,
    Layout,
)
from kiosk.idcard.reading import (
    MAX_CAPTURE_BYTES,
    MAX_CAPTURE_PIXELS,
    CardNotRead,
    CardReading,
    parse_issue_date,
    parse_licence_number,
    parse_name,
    parse_rrn,
    parse_serial,
    rrn_checksum_ok,
)

TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                 "/usr/share/tessdata")
WORK_SIDE = 1600          # a larger capture is decoded (JPEG: draft mode) and scaled down to this
FIND_SIDE = 640           # the card is looked for at this size
CARD_SIZE = (round(CARD_WIDTH_MM * PX_PER_MM), round(CARD_HEIGHT_MM * PX_PER_MM))
FIELD_TIMEOUT_MS = 2000

DIGITS = "0123456789"
WHITELISTS = {
    "rrn": DIGITS + "-",
    "issue_date": DIGITS + ". ",
    "licence_number": DIGITS + "-",
    "licence_serial": DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
}


def tessdata_dir() -> str:
    """Debian's tessdata folder holding kor.traineddata (tesseract-ocr-kor)."""
    for folder in ((os.environ.get("TESSDATA_PREFIX") or "").rstrip("/"),) + TESSDATA_DIRS:
        if folder and os.path.isfile(os.path.join(folder, "kor.traineddata")):
            return folder
    raise RuntimeError("kor.traineddata is missing: apt-get install tesseract-ocr-kor")


class _Engines:
    """One Korean and one English Tesseract, used by one read at a time."""

    def __init__(self, tessdata: str):
        import cv2
        import tesserocr

        cv2.setNumThreads(1)   # one core per read: the pool, not OpenCV, spreads reads over the cores
        self.psm = tesserocr.PSM.SINGLE_LINE
        self.kor = tesserocr.PyTessBaseAPI(path=tessdata + "/", lang="kor", psm=self.psm,
                                           oem=tesserocr.OEM.LSTM_ONLY)
        self.eng = tesserocr.PyTessBaseAPI(path=tessdata + "/", lang="eng", psm=self.psm,
                                           oem=tesserocr.OEM.LSTM_ONLY)

    def text(self, gray, field: str = "", lang: str = "kor") -> str:
        """One line of text from a grayscale numpy crop."""
        api = self.eng if lang == "eng" else self.kor
        api.SetVariable("tessedit_char_whitelist", WHITELISTS.get(field, ""))
        height, width = gray.shape
        try:
            api.SetImageBytes(gray.tobytes(), width, height, 1, width)
            api.SetSourceResolution(300)
            if not api.Recognize(timeout=FIELD_TIMEOUT_MS):
                return ""
            return (api.GetUTF8Text() or "").strip()
        except RuntimeError:       # an empty or degenerate crop
            return ""

    def close(self) -> None:
        self.kor.End()
        self.eng.End()


class CardReader:
    """Built once at start-up (kiosk.wiring); `read` may be called from any thread."""

    def __init__(self, tessdata: str | None = None, pool_size: int = 2, wait_seconds: float = 10.0):
        self.tessdata = tessdata   # None: Debian's, found at the first read (start-up never fails on it)
        self.pool_size = pool_size
        self.wait_seconds = wait_seconds
        self._idle: queue.LifoQueue[_Engines] = queue.LifoQueue()
        self._made = 0
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Load the libraries and one set of models now (about 1.5 s) rather than at the first
        customer's read; a missing model is logged (idcard.engine_unavailable) and left to the read."""
        try:
            engines = self._take()
        except CardNotRead:
            return
        self._idle.put(engines)

    def read(self, image: bytes) -> CardReading:
        """The fields of the card in `image` (JPEG or PNG bytes); raises CardNotRead."""
        picture = decode(image)
        engines = self._take()
        try:
            return read_card(picture, engines)
        finally:
            self._idle.put(engines)

    def _take(self) -> _Engines:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            make = self._made < self.pool_size
            if make:
                self._made += 1
        if make:
            try:
                return _Engines(self.tessdata or tessdata_dir())
            except (ImportError, RuntimeError) as exc:
                with self._lock:
                    self._made -= 1
                logs.error("idcard.engine_unavailable", reason=str(exc))
                raise CardNotRead("unreadable") from None
            except BaseException:
                with self._lock:
                    self._made -= 1
                raise
        try:
            return self._idle.get(timeout=self.wait_seconds)
        except queue.Empty:
            raise CardNotRead("unreadable") from None

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def decode(image: bytes):
    """The capture as a grayscale numpy array at most WORK_SIDE on its longer side, or CardNotRead."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if not isinstance(image, (bytes, bytearray, memoryview)):
        raise CardNotRead("not_an_image")
    if len(image) > MAX_CAPTURE_BYTES:
        raise CardNotRead("too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(BytesIO(image), formats=("JPEG", "PNG"))
            width, height = picture.size
            if width * height > MAX_CAPTURE_PIXELS:
                raise CardNotRead("too_large")
            if picture.format == "JPEG":
                picture.draft("L", (WORK_SIDE, WORK_SIDE))
            picture = picture.convert("L")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise CardNotRead("too_large") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise CardNotRead("not_an_image") from None
    if max(picture.size) > WORK_SIDE:
        picture.thumbnail((WORK_SIDE, WORK_SIDE))
    if min(picture.size) < 64:
        raise CardNotRead("no_card")
    return np.asarray(picture)


def card_quads(gray) -> list:
    """Four-cornered outlines that could be a card, the likeliest first, in `gray`'s pixels."""
    import cv2
    import numpy as np

    height, width = gray.shape
    scale = FIND_SIDE / max(height, width)
    small = cv2.resize(gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    masks = []
    median = float(np.median(small))
    edges = cv2.Canny(small, max(10, int(0.5 * median)), max(40, int(1.2 * median)))
    masks.append(cv2.dilate(edges, np.ones((3, 3), np.uint8), iterations=2))
    _, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    masks.append(cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8)))
    image_area = small.shape[0] * small.shape[1]
    found = []
    for mask in masks:
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            hull = cv2.convexHull(contour)
            area = cv2.contourArea(hull)
            if area < 0.08 * image_area or area > 0.995 * image_area:
                continue
            quad = _four_corners(hull)
            if quad is None:
                continue
            score = _card_likeness(quad, area, image_area)
            if score > 0:
                found.append((score, quad / scale))
    found.sort(key=lambda item: -item[0])
    distinct = []
    for _, quad in found:
        if all(np.abs(quad - other).max() > 0.02 * max(height, width) for other in distinct):
            distinct.append(quad)
    return distinct[:3]


def _four_corners(hull):
    import cv2

    perimeter = cv2.arcLength(hull, True)
    for share in (0.02, 0.03, 0.045, 0.06, 0.08):
        approx = cv2.approxPolyDP(hull, share * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype("float32")
        if len(approx) < 4:
            break
    box = cv2.boxPoints(cv2.minAreaRect(hull))
    return box.astype("float32")


def _card_likeness(quad, area: float, image_area: float) -> float:
    """> 0 when the outline has a card's proportions and square corners; larger for a larger one, and
    for one nearer the card's ratio and right angles (a card merged with a thing beside it is neither)."""
    import numpy as np

    ring = order_corners(quad)
    sides = [float(np.linalg.norm(ring[i] - ring[(i + 1) % 4])) for i in range(4)]
    long_side, short_side = (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2
    if short_side < 1:
        return 0.0
    ratio = long_side / short_side
    if not 1.3 <= ratio <= 1.9:
        return 0.0
    worst_corner = 0.0
    for i in range(4):
        a, b = ring[i - 1] - ring[i], ring[(i + 1) % 4] - ring[i]
        cosine = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))
        worst_corner = max(worst_corner, abs(90.0 - np.degrees(np.arccos(np.clip(cosine, -1, 1)))))
    if worst_corner > 25:
        return 0.0
    return area / image_area * (1.0 - abs(ratio - CARD_RATIO)) * (1.0 - worst_corner / 25)


def order_corners(quad):
    """Clockwise from the corner that makes the first side a long side, top-left when upright."""
    import numpy as np

    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    ring = quad[np.argsort(angles)]          # clockwise on screen (y grows downwards)
    sides = [np.linalg.norm(ring[i] - ring[(i + 1) % 4]) for i in range(4)]
    if sides[0] + sides[2] < sides[1] + sides[3]:
        ring = np.roll(ring, -1, axis=0)
    if ring[2].sum() < ring[0].sum():        # start at the upper-left of the two choices
        ring = np.roll(ring, -2, axis=0)
    return ring


def straighten(gray, quad):
    import cv2
    import numpy as np

    width, height = CARD_SIZE
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype="float32")
    matrix = cv2.getPerspectiveTransform(order_corners(quad).astype("float32"), target)
    return cv2.warpPerspective(gray, matrix, (width, height), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)


def whole_picture(gray):
    """A capture already cropped to the card (the page's frame): the picture itself, if card-shaped."""
    import cv2

    height, width = gray.shape
    if not 1.35 <= width / height <= 1.85:
        return None
    return cv2.resize(gray, CARD_SIZE, interpolation=cv2.INTER_CUBIC)


def crop(card, box: Box, pad_mm: float = 1.0):
    left, top, right, bottom = box.pixels(pad_mm=pad_mm)
    return card[top:bottom, left:right]


def one_line(piece, margin: float = 0.35):
    """The field's crop cut to its own line of print. A box grown by its padding (or a card straightened
    a little off) takes in the foot of the line above or the top of the line below; Tesseract's single-line
    mode then sets its baseline and letter height by both and returns nothing, or a misread (measured on
    600 generated cards: a resident number read empty by half the ways, one serial in forty). The
    line is the band of rows with the most ink, joined with bands just above or below it (dots, accents)."""
    import cv2

    _, ink = cv2.threshold(piece, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    per_row = ink.sum(axis=1)
    bands, start = [], None
    for y, inked in enumerate([*(per_row > 0.01 * piece.shape[1]), False]):
        if inked and start is None:
            start = y
        elif not inked and start is not None:
            bands.append((start, y))
            start = None
    if not bands:
        return piece
    top, bottom = max(bands, key=lambda band: per_row[band[0]:band[1]].sum())
    height = bottom - top
    for above, below in bands:
        if below <= top and top - below < 0.25 * height:
            top = above
        if above >= bottom and above - bottom < 0.25 * height:
            bottom = below
    grow = round(margin * (bottom - top))
    return piece[max(0, top - grow):bottom + grow]


def card_kind(engines: _Engines, card) -> str | None:
    """The kind whose title the top band holds, or None. The band is read whole first (one call for
    both kinds); when that gives nothing, each kind's own title box."""
    for box in (TITLE_BAND, *(layout.title_box for layout in LAYOUTS.values())):
        kind = _kind_of("".join(engines.text(binarised(crop(card, box, pad_mm=0))).split()))
        if kind is not None:
            return kind
    return None


def _kind_of(text: str) -> str | None:
    best, best_hits = None, 0.0
    for layout in LAYOUTS.values():
        hits = sum(1 for word in layout.title_words if word in text)
        hits += sum(1 for ch in set(layout.title) if ch in text) / len(layout.title)
        if hits > best_hits:
            best, best_hits = layout.kind, hits
    return best if best_hits >= 0.6 else None


PARSERS = {"name": parse_name, "rrn": parse_rrn, "issue_date": parse_issue_date,
           "licence_number": parse_licence_number, "licence_serial": parse_serial}


def binarised(gray):
    """Dark print on white, the card's pale security pattern gone (Otsu's threshold on the crop alone,
    so that a glare elsewhere on the card does not shift it), its edges softened again by a 3×3
    Gaussian: Tesseract's LSTM models were trained on anti-aliased text and confuse hard-edged 9/Q,
    4/A, 5/S more often (measured: 87 % → 96 % of serials read)."""
    import cv2

    _, black_white = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return cv2.GaussianBlur(black_white, (3, 3), 0)


# How each field is read, in order, until its parser accepts the text: (model, picture), where the
# picture is the binarised crop ("bw"), the crop as it is ("plain"), the binarised crop at twice the size
# ("bw2") or at three quarters ("small"), sharpened ("sharp"), or with its strokes thickened ("bold").
# Measured per field and per way on 400 generated cards (two seeds, docs/idcard.md): the English model
# reads the dotted date more surely than the Korean one (which sometimes doubles a lone "1"), the Korean
# one the resident number and the name; the crop as it is fails the date one time in three (its dots and
# the "1"s run together), so the date's fallbacks are the binarised ones.
FIELD_PLAN = {
    "name": (("kor", "bw"), ("kor", "plain"), ("kor", "small")),
    "rrn": (("kor", "bw"), ("kor", "small"), ("eng", "small")),
    "issue_date": (("eng", "bw"), ("eng", "bw2"), ("eng", "small")),
    "licence_number": (("kor", "bw"), ("eng", "bw"), ("kor", "plain")),
    "licence_serial": (("eng", "bold"), ("eng", "plain"), ("eng", "sharp")),
}
# fields whose first reading is taken only once a second way of reading agrees (a letter read as a
# look-alike still parses); after three ways without agreement, the first whose old check digit holds,
# else the first
AGREE = {"name", "rrn"}
# fields read every way, the most frequent reading taken (ties: the earlier way): the serial is a few
# random letters and digits in small print, where no language model helps and the English model reads a
# digit between capitals as the capital it resembles (9/O, 5/S, 7/T, 4/A), even printed clean. The ways
# that keep the grey strokes (not binarised) read it best; measured on the 299 licences of 600 generated
# cards, each crop cut to its line: thickened 94 %, as it is 91 %, sharpened 92 %, their vote 94 %, where
# the vote of the five mostly binarised ways of before gave 89 % on the uncut crops
VOTE = {"licence_serial"}


def _picture(piece, variant: str):
    import cv2
    import numpy as np

    if variant == "plain":
        return piece
    if variant == "bold":        # dark strokes a pixel thicker: the grey crop, not binarised
        return cv2.erode(piece, np.ones((2, 2), np.uint8))
    if variant == "bw2":
        piece = cv2.resize(piece, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    elif variant == "small":
        piece = cv2.resize(piece, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)
    elif variant == "sharp":     # unsharp mask: a blurred capture's strokes apart again
        piece = cv2.addWeighted(piece, 3.0, cv2.GaussianBlur(piece, (0, 0), 2.0), -2.0, 0)
    return binarised(piece)


def read_field(engines: _Engines, card, field: str, box: Box, plausible=None):
    """The parsed value of one field, or its parser's empty value. A value `plausible` refuses is read
    again another way. The crop is cut to its own line first (`one_line`). Names and resident numbers are
    taken once two ways of reading agree, except a resident number whose old check digit holds at the
    first reading (the check digit is only a hint: numbers since 2020-10-05 have none, and are then taken
    on agreement); serials by the vote of every way."""
    parse = PARSERS[field]
    piece = one_line(crop(card, box))
    if field in VOTE:
        readings = [parse(engines.text(_picture(piece, variant), field, lang)) for lang, variant in FIELD_PLAN[field]]
        readings = [value for value in readings if value]
        return max(readings, key=readings.count) if readings else parse("")
    seen = []
    for lang, variant in FIELD_PLAN[field]:
        value = parse(engines.text(_picture(piece, variant), field, lang))
        if not value or (plausible is not None and not plausible(value)):
            continue
        if field not in AGREE or value in seen or (field == "rrn" and not seen and rrn_checksum_ok(value)):
            return value
        seen.append(value)
    if field == "rrn":   # the first reading whose old check digit holds, else the first (a stable sort)
        seen.sort(key=lambda value: not rrn_checksum_ok(value))
    return seen[0] if seen else parse("")


def _issued_after_birth(rrn: str, kind: str):
    """A card is issued at 17 at the earliest (a licence at 16): an earlier date is a misreading."""
    if not rrn:
        return None
    century = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000}
    year = century.get(rrn[6], 1800) + int(rrn[:2])
    youngest = 16 if kind == DRIVER_LICENSE else 17
    return lambda issued: issued.year >= year + youngest - 1


def read_fields(engines: _Engines, card, layout: Layout) -> CardReading:
    boxes = layout.read_boxes()
    values = {"rrn": read_field(engines, card, "rrn", boxes["rrn"])}
    values["issue_date"] = read_field(engines, card, "issue_date", boxes["issue_date"],
                                      _issued_after_birth(values["rrn"], layout.kind))
    for field in ("name", "licence_number", "licence_serial"):
        if field in boxes:
            values[field] = read_field(engines, card, field, boxes[field])
    rrn = values["rrn"]
    return CardReading(
        kind=layout.kind, name=values["name"], rrn=rrn, issue_date=values["issue_date"],
        licence_number=values.get("licence_number", ""), licence_serial=values.get("licence_serial", ""),
        rrn_checksum_ok=rrn_checksum_ok(rrn) if rrn else None,
    )


def _complete(reading: CardReading) -> int:
    found = [reading.name, reading.rrn, reading.issue_date]
    if reading.kind == DRIVER_LICENSE:
        found += [reading.licence_number, reading.licence_serial]
    return sum(1 for value in found if value) - len(found)   # 0 when every field was read


def read_card(gray, engines: _Engines, deadline_seconds: float = 8.0) -> CardReading:
    """Try each card-shaped outline, both ways up; the outline whose title names a kind is read, and
    the next one too while fields are missing (a cluttered background can bend the likeliest outline)."""
    import numpy as np

    deadline = time.monotonic() + deadline_seconds
    candidates = [straighten(gray, quad) for quad in card_quads(gray)]
    whole = whole_picture(gray)
    if whole is not None:
        candidates.append(whole)
    best: CardReading | None = None
    for card in candidates:
        for turned in (card, np.ascontiguousarray(card[::-1, ::-1])):
            if time.monotonic() > deadline:
                break
            kind = card_kind(engines, turned)
            if kind is None:
                continue
            reading = read_fields(engines, turned, LAYOUTS[kind])
            if best is None or _complete(reading) > _complete(best):
                best = reading
            break
        if best is not None and _complete(best) == 0:
            break
    if best is None:
        raise CardNotRead("no_card" if time.monotonic() <= deadline else "unreadable")
    if not best.name and not best.rrn:
        raise CardNotRead("unreadable")
    return best


__all__ = ["CardReader", "DRIVER_LICENSE", "decode", "read_card"]

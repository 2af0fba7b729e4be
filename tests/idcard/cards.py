"""Camera captures of card specimens, made the way a kiosk camera sees a card held up to it: the
product's own drawer (kiosk.idcard.specimen) on a background, turned, shifted, tilted, blurred, glared
and JPEG-compressed; and the fake camera file Chromium plays (`--use-file-for-fake-video-capture`)."""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from kiosk.idcard import specimen
from kiosk.idcard.specimen import CAMERA_FRAME as FRAME
from kiosk.idcard.specimen import CardFace, draw_card


@dataclass(frozen=True)
class Distortion:
    rotation: float = 0.0          # degrees, anticlockwise
    offset: tuple[float, float] = (0.0, 0.0)   # share of the frame
    width: float = 0.62            # the card's width as a share of the frame's
    perspective: float = 0.0       # corner jitter as a share of the card's width
    blur: float = 0.0              # Gaussian radius in px
    glare: float = 0.0             # 0..1: a bright spot's strength
    quality: int = 85              # JPEG quality
    background: str = "desk"       # desk | light | cluttered
    upside_down: bool = False
    seed: int = 0


CLEAN = Distortion()


def mild(seed: int) -> Distortion:
    """Small rotation, offset, tilt, blur, glare and JPEG noise, as a hand holding a card gives."""
    rng = random.Random(seed)
    return Distortion(
        rotation=rng.uniform(-6, 6), offset=(rng.uniform(-0.06, 0.06), rng.uniform(-0.06, 0.06)),
        width=rng.uniform(0.55, 0.7), perspective=rng.uniform(0, 0.03), blur=rng.uniform(0, 1.2),
        glare=rng.uniform(0, 0.35), quality=rng.randint(55, 90),
        background=rng.choice(("desk", "desk", "cluttered", "light")), seed=seed)


def _rounded(card: Image.Image) -> Image.Image:
    """The card with its rounded corners (3.18 mm on ID-1) and an alpha channel."""
    mask = Image.new("L", card.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, card.width - 1, card.height - 1], radius=38, fill=255)
    rgba = card.convert("RGBA")
    rgba.putalpha(mask)
    return rgba


def background(kind: str, rng: random.Random) -> Image.Image:
    width, height = FRAME
    if kind == "light":
        base = np.full((height, width, 3), 150, np.float32)
    else:
        base = np.zeros((height, width, 3), np.float32) + np.array([70, 55, 40], np.float32)
        base += np.linspace(-20, 20, width)[None, :, None]
    base += np.random.default_rng(rng.randint(0, 2**31)).normal(0, 8, base.shape)
    picture = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    if kind == "cluttered":
        draw = ImageDraw.Draw(picture)
        for _ in range(6):
            x, y = rng.randint(0, width), rng.randint(0, height)
            colour = tuple(rng.randint(30, 200) for _ in range(3))
            draw.rectangle([x, y, x + rng.randint(40, 200), y + rng.randint(20, 120)], fill=colour)
    return picture


def _coefficients(source, target):
    """Pillow's PERSPECTIVE coefficients taking output (target) points to input (source) points."""
    rows, values = [], []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return np.linalg.solve(np.array(rows, float), np.array(values, float)).tolist()


def photograph(card: Image.Image, distortion: Distortion = CLEAN) -> Image.Image:
    """`card` (any picture) as the camera frames it."""
    rng = random.Random(distortion.seed)
    frame_w, frame_h = FRAME
    picture = background(distortion.background, rng)
    card = _rounded(card)
    width = distortion.width * frame_w
    height = width * card.height / card.width
    cx = frame_w / 2 + distortion.offset[0] * frame_w
    cy = frame_h / 2 + distortion.offset[1] * frame_h
    angle = np.radians(distortion.rotation + (180 if distortion.upside_down else 0))
    cos, sin = np.cos(angle), np.sin(angle)
    corners = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        x, y = sx * width / 2, sy * height / 2
        jitter = distortion.perspective * width
        x += rng.uniform(-jitter, jitter)
        y += rng.uniform(-jitter, jitter)
        corners.append((cx + x * cos + y * sin, cy - x * sin + y * cos))
    source = [(0, 0), (card.width, 0), (card.width, card.height), (0, card.height)]
    placed = card.transform(FRAME, Image.Transform.PERSPECTIVE, _coefficients(source, corners),
                            Image.Resampling.BICUBIC)
    picture.paste(placed, (0, 0), placed)
    if distortion.glare:
        gx, gy = rng.uniform(0.3, 0.7) * frame_w, rng.uniform(0.3, 0.7) * frame_h
        yy, xx = np.mgrid[0:frame_h, 0:frame_w]
        spot = np.exp(-(((xx - gx) / 160) ** 2 + ((yy - gy) / 110) ** 2)) * 255 * distortion.glare
        array = np.asarray(picture, np.float32) + spot[:, :, None]
        picture = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
    if distortion.blur:
        picture = picture.filter(ImageFilter.GaussianBlur(distortion.blur))
    return picture


def jpeg(picture: Image.Image, quality: int = 85) -> bytes:
    buffer = BytesIO()
    picture.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png(picture: Image.Image) -> bytes:
    buffer = BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def capture(face: CardFace, distortion: Distortion = CLEAN) -> bytes:
    """A camera capture of `face`'s card, as JPEG bytes."""
    return jpeg(photograph(draw_card(face), distortion), distortion.quality)


def fake_camera_mjpeg(jpeg_bytes: bytes, path: Path | str, frames: int = 30) -> Path:
    """The product's fake camera file (kiosk.idcard.specimen.fake_camera_mjpeg) of this capture, at `path`."""
    path = Path(path)
    path.write_bytes(specimen.fake_camera_mjpeg(jpeg_bytes, frames))
    return path


def not_a_card(seed: int = 0) -> bytes:
    """A photograph of a desk with things on it, none of them card-shaped."""
    rng = random.Random(seed)
    picture = background("desk", rng)
    draw = ImageDraw.Draw(picture)
    for _ in range(8):
        x, y, r = rng.randint(0, FRAME[0]), rng.randint(0, FRAME[1]), rng.randint(20, 90)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(rng.randint(60, 240) for _ in range(3)))
    return jpeg(picture)


def half_a_card(face: CardFace) -> bytes:
    """The left half of the card, the rest out of the frame."""
    card = draw_card(face)
    return capture_of(card.crop((0, 0, card.width // 2, card.height)))


def capture_of(picture: Image.Image, distortion: Distortion = CLEAN) -> bytes:
    return jpeg(photograph(picture, distortion), distortion.quality)


def decompression_bomb(width: int = 60000, height: int = 60000) -> bytes:
    """A PNG of a few hundred bytes that claims width × height pixels (grey, all zero)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = zlib.compress(b"\x00" * 4096, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허남심노하곽성차주우구민유진지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부가복태목형피두감호제"
GIVEN = "민서준지현우은영수진하윤도희성호연주경석재원혜정태아유나빈승선미동길철훈예채다인소혁규상용환"
HANJA = "金李朴崔鄭姜趙尹張林韓吳徐申權黃安宋柳洪高文梁孫裵白許南沈盧河郭成車朱禹具閔俞秦池嚴蔡元千方"
ADDRESSES = ("서울특별시 종로구 세종대로 209", "부산광역시 해운대구 센텀중앙로 79", "대구광역시 중구 공평로 88",
             "인천광역시 남동구 정각로 29", "광주광역시 서구 내방로 111", "대전광역시 서구 둔산로 100",
             "경기도 수원시 팔달구 효원로 241", "강원특별자치도 춘천시 중앙로 1", "제주특별자치도 제주시 문연로 6")
# a serial's letters and digits without the pairs that the specimen's font draws alike (0/O, 1/I, Q):
# which characters real serials use, and in which font, is for the pilot to find (docs/idcard.md)
SERIAL_ALPHABET = "23456789ABCDEFGHJKLMNPRSTUVWXYZ"
_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def random_face(rng: random.Random, kind: str | None = None):
    """A card of someone who does not exist: a 2–4 syllable name, a resident number of either era
    (with the old check digit, or the random digits of numbers since 2020-10-05), dates that fit."""
    from datetime import date, timedelta

    kind = kind or rng.choice(("resident_card", "driver_license"))
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2, 3))))
    birth = date(1940, 1, 1) + timedelta(days=rng.randint(0, 365 * 64))
    sex = rng.choice((1, 2)) + (2 if birth.year >= 2000 else 0)
    head = f"{birth:%y%m%d}{sex}"
    # cards in use were issued since the 1999 reissue of every 주민등록증 (a licence is renewed every 10 years)
    earliest = max(date(birth.year + 17, birth.month, min(birth.day, 28)), date(1999, 1, 1))
    issued = earliest + timedelta(days=rng.randint(0, max(1, (date(2026, 6, 30) - earliest).days)))
    if issued >= date(2020, 10, 5) and rng.random() < 0.8:
        rrn = head + "".join(rng.choice("0123456789") for _ in range(6))
    else:
        body = head + "".join(rng.choice("0123456789") for _ in range(5))
        rrn = body + str((11 - sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11) % 10)
    hanja = "".join(rng.choice(HANJA) for _ in name) if rng.random() < 0.8 else ""
    licence = ""
    serial = ""
    if kind == "driver_license":
        licence = f"{rng.randint(11, 28)}-{issued:%y}-{rng.randint(0, 999999):06d}-{rng.randint(10, 99)}"
        serial = "".join(rng.choice(SERIAL_ALPHABET) for _ in range(6))
    return CardFace(kind=kind, name=name, rrn=rrn, issue_date=issued, hanja=hanja,
                    address=rng.choice(ADDRESSES), licence_number=licence, licence_serial=serial)

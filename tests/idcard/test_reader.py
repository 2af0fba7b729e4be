"""The card reader on the product's own specimens (kiosk.idcard.specimen) as a camera sees them, and on
what a camera should not be sending: real Tesseract with Debian's Korean model, real OpenCV, no mocks."""

import dataclasses

import numpy as np
import pytest

from kiosk.idcard import MAX_CAPTURE_BYTES, CardNotRead, CardReader, CardReading
from kiosk.idcard import reader as card_reader
from kiosk.idcard.layout import LAYOUTS
from kiosk.idcard.reading import parse_rrn
from kiosk.idcard.specimen import demo_faces, draw_card
from tests.idcard.cards import (
    CLEAN,
    Distortion,
    capture,
    decompression_bomb,
    half_a_card,
    jpeg,
    mild,
    not_a_card,
    png,
)

FACES = demo_faces()


@pytest.fixture(scope="module")
def reader():
    card_reader = CardReader()
    yield card_reader
    card_reader.close()


def expected(face) -> CardReading:
    return CardReading(kind=face.kind, name=face.name, rrn=face.rrn, issue_date=face.issue_date,
                       licence_number=face.licence_number, licence_serial=face.licence_serial)


def fields(reading: CardReading) -> dict:
    found = dataclasses.asdict(reading)
    found.pop("rrn_checksum_ok")
    return found


@pytest.mark.parametrize("face", FACES, ids=[f.name for f in FACES])
@pytest.mark.parametrize("seed", [1, 2])
def test_every_demo_card_held_to_the_camera_is_read_exactly(reader, face, seed):
    reading = reader.read(capture(face, mild(seed + 100 * FACES.index(face))))
    assert fields(reading) == fields(expected(face))


def test_the_demo_licence_carries_a_number_and_a_serial():
    licences = [f for f in FACES if f.kind == "driver_license"]
    assert licences and all(f.licence_number and f.licence_serial for f in licences)


def test_a_capture_cropped_to_the_card_is_read(reader):
    face = FACES[0]
    assert fields(reader.read(png(draw_card(face)))) == fields(expected(face))


@pytest.mark.parametrize("face", [FACES[0], FACES[1]], ids=["resident_card", "driver_license"])
def test_a_field_box_that_takes_in_the_lines_around_it_is_cut_to_its_own_line(face):
    card = np.asarray(draw_card(face).convert("L"))
    box = LAYOUTS[face.kind].rrn
    piece = card_reader.crop(card, box, pad_mm=3)   # reaches into the name above and the address below
    line = card_reader.one_line(piece)
    engines = card_reader._Engines(card_reader.tessdata_dir())
    try:
        assert line.shape[0] < 0.6 * piece.shape[0]
        assert parse_rrn(engines.text(card_reader.binarised(line), "rrn")) == face.rrn
    finally:
        engines.close()


@pytest.mark.parametrize("face", [FACES[0], FACES[1]], ids=["resident_card", "driver_license"])
def test_a_card_upside_down_is_turned_and_read(reader, face):
    reading = reader.read(capture(face, dataclasses.replace(mild(7), upside_down=True)))
    assert fields(reading) == fields(expected(face))


def test_the_checksum_is_a_hint_for_old_numbers_only(reader):
    reading = reader.read(capture(FACES[0], CLEAN))
    assert reading.rrn_checksum_ok is True and reading.masked_rrn() == "900101-1******"


def test_the_reading_never_shows_the_number_or_name_in_its_repr(reader):
    reading = reader.read(capture(FACES[0], CLEAN))
    assert "1234568" not in repr(reading) and "홍길동" not in repr(reading)


def not_read(reader, image) -> str:
    with pytest.raises(CardNotRead) as caught:
        reader.read(image)
    return caught.value.reason


def test_a_photo_without_a_card_is_no_card(reader):
    assert not_read(reader, not_a_card()) == "no_card"


def test_half_a_card_is_not_read(reader):
    assert not_read(reader, half_a_card(FACES[0])) in ("no_card", "unreadable")


def test_a_blank_card_shaped_thing_is_no_card(reader):
    from PIL import Image

    blank = Image.new("RGB", draw_card(FACES[0]).size, (235, 235, 230))
    assert not_read(reader, jpeg(blank)) == "no_card"


def test_more_bytes_than_the_bound_are_too_large(reader):
    assert not_read(reader, b"\xff\xd8\xff\xe0" + b"\0" * MAX_CAPTURE_BYTES) == "too_large"


def test_an_enormous_picture_is_too_large(reader):
    from PIL import Image

    assert not_read(reader, jpeg(Image.new("L", (5000, 4000), 128), quality=30)) == "too_large"


def test_a_decompression_bomb_is_too_large_and_never_decoded(reader):
    bomb = decompression_bomb()
    assert len(bomb) < 1000
    assert not_read(reader, bomb) == "too_large"


@pytest.mark.parametrize("image", [b"", b"not an image at all", b"GIF89a" + b"\0" * 100],
                         ids=["empty", "text", "gif"])
def test_what_is_not_a_jpeg_or_png_is_not_an_image(reader, image):
    assert not_read(reader, image) == "not_an_image"


def test_a_truncated_jpeg_is_not_an_image(reader):
    whole = capture(FACES[0], CLEAN)
    assert not_read(reader, whole[: len(whole) // 3]) == "not_an_image"


def test_a_gif_of_a_card_is_not_an_image(reader):
    from io import BytesIO

    buffer = BytesIO()
    draw_card(FACES[0]).save(buffer, "GIF")
    assert not_read(reader, buffer.getvalue()) == "not_an_image"


def test_a_blurred_glared_capture_still_reads_the_number(reader):
    distortion = Distortion(rotation=3, blur=1.5, glare=0.4, quality=50, seed=3)
    assert reader.read(capture(FACES[2], distortion)).rrn == FACES[2].rrn


def test_a_flood_of_captures_from_many_threads_is_read_by_a_small_pool():
    """Sixteen server threads at once against a pool of two engine pairs: every read right, none mixed up."""
    from concurrent.futures import ThreadPoolExecutor

    pool_reader = CardReader(pool_size=2, wait_seconds=300)  # correctness here; the wait bound is for a kiosk
    images = [(face, capture(face, mild(40 + n))) for n, face in enumerate(FACES * 2)]
    try:
        with ThreadPoolExecutor(max_workers=16) as threads:
            readings = list(threads.map(lambda item: pool_reader.read(item[1]), images))
        assert pool_reader._made == 2
    finally:
        pool_reader.close()
    assert [(r.name, r.rrn) for r in readings] == [(face.name, face.rrn) for face, _ in images]


def test_the_fake_camera_file_is_the_capture_frame_after_frame(tmp_path):
    from io import BytesIO

    from PIL import Image

    from tests.idcard.cards import fake_camera_mjpeg

    frame = capture(FACES[0], mild(1))
    path = fake_camera_mjpeg(frame, tmp_path / "card.mjpeg", frames=5)
    data = path.read_bytes()
    assert data.count(b"\xff\xd8") >= 5 and data == frame * 5
    with Image.open(BytesIO(data)) as first:
        assert first.format == "JPEG" and first.size == (1280, 720)
    with pytest.raises(ValueError):
        fake_camera_mjpeg(b"\x89PNG", tmp_path / "not.mjpeg")

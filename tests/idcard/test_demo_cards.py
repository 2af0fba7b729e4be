"""`kiosk demo-cards DIR` writes every demo customer's card, and the reader reads each file it wrote."""

from click.testing import CliRunner

from kiosk.cli import main
from kiosk.idcard import CardReader
from kiosk.idcard.specimen import demo_faces
from tests.idcard.cards import capture_of


def test_demo_cards_writes_a_card_of_every_demo_customer_that_reads_back(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(main, ["demo-cards", str(tmp_path / "cards")])
    assert result.exit_code == 0, result.output
    reader = CardReader()
    try:
        for face in demo_faces():
            path = tmp_path / "cards" / f"{face.name}-{face.kind}.png"
            with Image.open(path) as printed:
                assert round(printed.info["dpi"][0]) == 305
                reading = reader.read(capture_of(printed.convert("RGB")))
            assert (reading.kind, reading.name, reading.rrn, reading.issue_date) == (
                face.kind, face.name, face.rrn, face.issue_date)
    finally:
        reader.close()


def test_demo_cards_are_refused_in_production(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_MODE", "production")
    result = CliRunner().invoke(main, ["demo-cards", str(tmp_path / "cards")])
    assert result.exit_code != 0 and not (tmp_path / "cards").exists()


def test_demo_cards_fake_camera_files_play_each_card_held_still_and_read_back(tmp_path, monkeypatch):
    """What the lab appliance's browser plays as its camera (appliance/build-image.sh): each frame is the
    card in the middle of a 1280 × 720 picture, and the reader reads it as the card it shows."""
    from io import BytesIO

    from PIL import Image

    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(main, ["demo-cards", "--fake-camera", str(tmp_path / "cards")])
    assert result.exit_code == 0, result.output
    reader = CardReader()
    try:
        for face in demo_faces():
            played = (tmp_path / "cards" / f"{face.name}-{face.kind}.mjpeg").read_bytes()
            frame = played[:played.index(b"\xff\xd8", 2)]
            assert played == frame * (len(played) // len(frame))
            with Image.open(BytesIO(frame)) as first:
                assert (first.format, first.size) == ("JPEG", (1280, 720))
            reading = reader.read(frame)
            assert (reading.kind, reading.name, reading.rrn, reading.issue_date, reading.licence_serial) == (
                face.kind, face.name, face.rrn, face.issue_date, face.licence_serial)
    finally:
        reader.close()

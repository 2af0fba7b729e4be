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

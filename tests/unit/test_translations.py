"""English ships complete: every string the kiosk can show has an English translation, and the catalog
is up to date with the code (a string added without `make catalog` fails here)."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
EN = ROOT / "kiosk/translations/en/LC_MESSAGES/messages.po"


def untranslated(path: Path) -> list[str]:
    with path.open("rb") as f:
        catalog = read_po(f, locale="en")
    missing = []
    for message in catalog:
        if not message.id:
            continue
        text = message.string if isinstance(message.string, str) else message.string[0]
        if not text or message.fuzzy:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def test_every_english_string_is_translated():
    assert untranslated(EN) == []


def test_the_catalog_holds_every_string_in_the_code(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-o", str(pot), "--no-location", "."], cwd=ROOT, check=True,
                   capture_output=True)
    with pot.open("rb") as f:
        in_code = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with EN.open("rb") as f:
        in_catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f, locale="en") if m.id}
    assert sorted(in_code - in_catalog) == [], "run `make catalog` and translate kiosk/translations/en"

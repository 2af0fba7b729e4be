"""A capture exists only in memory for the read: the reader writes no file, anywhere.

Proof: reads in a child process whose TMPDIR is a fresh folder, on a kiosk's data dir made by
`kiosk init --demo`, with an audit hook that records every file the process opens for writing; then the
data dir, the child's TMPDIR, the machine's temp dir and /dev/shm are scanned for any file new or
changed since, and for the capture's bytes or the resident number in them. Both the readings and the
refusals (too large, no card, corrupt) are covered. Other processes on the machine may write to /tmp
at the same time: there only the capture's own bytes and the number count, not new files as such."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kiosk.idcard.specimen import demo_faces
from tests.idcard.cards import capture, mild, not_a_card

CHILD = r"""
import json, os, sys
opened = []
def hook(event, args):
    if event == "open" and len(args) > 1 and isinstance(args[1], str) and any(c in args[1] for c in "wax+"):
        opened.append(str(args[0]))
    elif event in ("os.mkdir", "shutil.copyfile", "os.rename", "os.link", "os.symlink"):
        opened.append(str(args[0]))
captures = [open(path, "rb").read() for path in sys.argv[1:]]
from kiosk.wiring import build
from kiosk.settings import Settings
from kiosk.idcard import CardNotRead
kiosk = build(Settings.from_env()).start()
sys.addaudithook(hook)
outcomes = []
for image in captures:
    try:
        reading = kiosk.card_reader.read(image)
        outcomes.append(reading.masked_rrn())
    except CardNotRead as exc:
        outcomes.append(exc.reason)
report = json.dumps({"outcomes": outcomes, "opened": list(opened)})
kiosk.close()
print(report)
"""


def snapshot(*roots: Path, shallow: tuple[Path, ...] = ()) -> dict[Path, tuple[int, int]]:
    """Size and mtime of every file under `roots`, and of the files directly in `shallow` folders (the
    machine's shared temp dirs, where a temporary file would land, are not walked into other programs'
    trees)."""
    found = {}
    for root in (*roots, *shallow):
        for folder, subfolders, files in os.walk(root):
            if root in shallow:
                subfolders.clear()
            for name in files:
                path = Path(folder) / name
                try:
                    stat = path.lstat()
                except OSError:
                    continue
                found[path] = (stat.st_size, stat.st_mtime_ns)
    return found


def holds(path: Path, needles: list[bytes]) -> bool:
    try:
        if path.stat().st_size > 64 * 1024 * 1024:
            return False
        data = path.read_bytes()
    except OSError:
        return False
    return any(needle in data for needle in needles)


def test_reading_cards_writes_nothing_anywhere(tmp_path, data_dir):
    face = demo_faces()[0]
    images = {"card": capture(face, mild(5)), "not_a_card": not_a_card(3)}
    images["corrupt"] = images["card"][: len(images["card"]) // 2]
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name, image in images.items():
        (inputs / name).write_bytes(image)
    child_tmp = tmp_path / "child-tmp"
    child_tmp.mkdir()
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir), "TMPDIR": str(child_tmp), "KIOSK_METRICS_PORT": "0"}
    subprocess.run([sys.executable, "-m", "kiosk", "init", "--demo"], env=env, capture_output=True, check=True,
                   timeout=300)
    system_tmp, shm = Path(tempfile.gettempdir()), Path("/dev/shm")
    roots, shallow = (data_dir, child_tmp), (system_tmp, shm)
    before = snapshot(*roots, shallow=shallow)
    time.sleep(0.01)
    result = subprocess.run([sys.executable, "-c", CHILD, *(str(inputs / n) for n in images)], env=env,
                            capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["outcomes"] == ["900101-1******", "no_card", "not_an_image"]
    assert report["opened"] == [], "the reading process opened files for writing"
    after = snapshot(*roots, shallow=shallow)
    changed = [p for p, meta in after.items() if before.get(p) != meta and not p.is_relative_to(inputs)]
    assert not [p for p in changed if p.is_relative_to(child_tmp)], "a temporary file was made"
    needles = [images["card"][1000:1064], images["card"][-64:], face.rrn.encode(),
               f"{face.rrn[:6]}-{face.rrn[6:]}".encode()]
    assert not [p for p in changed if holds(p, needles)], "a file holds the capture or the number"
    assert not [p for p in changed if p.is_relative_to(data_dir)
                and not p.name.startswith("kiosk.sqlite3")], "the data dir holds a new file"
    assert "1234568" not in result.stdout + result.stderr

"""FAT volume labels as a real mkfs.vfat image holds them and the real libblkid reports them (the same
`ID_FS_LABEL_ENC` udev's blkid builtin sets): Windows writes the label in the OEM code page (CP949 on a
Korean PC), Linux and macOS in UTF-8. Both must show as 우체국, not as mojibake."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hardware.drives import decode_udev
from tests.tools import require_command

PLACEHOLDER = b"PLACEHOLDR "  # 11 bytes: the label field of the boot sectors and the root directory entry


def labelled_image(tmp_path: Path, label: bytes) -> Path:
    """A FAT32 image from mkfs.vfat whose label fields then hold `label` byte for byte, as Windows' format
    and relabel write them (mkfs.vfat itself refuses to convert Hangul to CP949)."""
    image = tmp_path / "stick.img"
    with image.open("wb") as file:
        file.truncate(40 * 1024 * 1024)
    subprocess.run([require_command("mkfs.vfat", "dosfstools"), "-F", "32", "-n", PLACEHOLDER.decode().strip(),
                    str(image)], check=True, capture_output=True)
    data = image.read_bytes()
    assert data.count(PLACEHOLDER) == 3  # boot sector, its backup, the root directory's volume entry
    image.write_bytes(data.replace(PLACEHOLDER, label.ljust(11, b" ")))
    return image


def blkid_udev(image: Path) -> dict[str, str]:
    output = subprocess.run([require_command("blkid", "util-linux"), "-p", "-o", "udev", str(image)],
                            check=True, capture_output=True, text=True, errors="surrogateescape").stdout
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


@pytest.mark.parametrize("codec", ["cp949", "utf-8"])
def test_a_hangul_label_reads_back_whatever_wrote_it(tmp_path, codec):
    found = blkid_udev(labelled_image(tmp_path, "우체국".encode(codec)))
    assert decode_udev(found["ID_FS_LABEL_ENC"]) == "우체국"


def test_windows_cp949_bytes_arrive_escaped_as_seen_on_real_sticks(tmp_path):
    found = blkid_udev(labelled_image(tmp_path, "우체국".encode("cp949")))
    assert found["ID_FS_LABEL_ENC"] == "\\xbf\\xecü\\xb1\\xb9"  # C3 BC happens to be valid UTF-8 (ü)


def test_an_ascii_label_and_udevs_space_escape():
    assert decode_udev("NO\\x20NAME") == "NO NAME"
    assert decode_udev("\\xff\\xfe") == "\ufffd\ufffd"  # neither UTF-8 nor CP949: shown, not hidden

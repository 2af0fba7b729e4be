"""Demo drives: folders under `<data_dir>/demo-drives/` that the staff console and tests "insert" and
"remove", so the whole journey runs on a machine without USB sticks.

Each drive is `<name>/drive.json` (what udev would say about it) and `<name>/root/` (its filesystem).
Ejecting leaves an `ejected` marker; inserting the same name again clears it and keeps the files, like
plugging the same stick back in. They are real folders, so writes and verifies are real too.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from hardware.drives import Drive, drive_id, judge
from hardware.errors import DriveRemoved, UnsupportedFilesystem
from hardware.log import event
from hardware.mount import NAME_OPTIONS, Volume

DEMO_FOLDER = "demo-drives"
DEFAULT_SIZE = 64 * 1024 * 1024
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


def demo_drives_dir(data_dir: Path) -> Path:
    return Path(data_dir) / DEMO_FOLDER


def _folder(data_dir: Path, name: str) -> Path:
    if not _NAME.match(name):
        raise ValueError(f"demo drive names are lower-case letters, digits and '-', not {name!r}")
    return demo_drives_dir(data_dir) / name


def insert_demo_drive(
    data_dir: Path,
    name: str,
    label: str = "DEMO",
    fs_type: str = "vfat",
    size_bytes: int = DEFAULT_SIZE,
    read_only: bool = False,
) -> Drive:
    """Plug a demo stick in (idempotent: the same name keeps its files, metadata is updated)."""
    folder = _folder(data_dir, name)
    (folder / "root").mkdir(parents=True, exist_ok=True)
    meta = {"label": label, "fs_type": fs_type, "size_bytes": int(size_bytes), "read_only": bool(read_only)}
    temporary = folder / "drive.json.tmp"
    temporary.write_text(json.dumps(meta, ensure_ascii=False))
    temporary.replace(folder / "drive.json")
    (folder / "ejected").unlink(missing_ok=True)
    return demo_drive(folder)


def remove_demo_drive(data_dir: Path, name: str) -> None:
    """Pull a demo stick out: its folder and files are gone, as a stick leaving the kiosk is."""
    shutil.rmtree(_folder(data_dir, name), ignore_errors=True)


def reinsert_ejected_demo_drives(data_dir: Path) -> int:
    """Plug every ejected demo stick back in, files and all (the staff console's demo button); returns
    how many came back."""
    base = demo_drives_dir(data_dir)
    markers = [folder / "ejected" for folder in sorted(base.iterdir())] if base.is_dir() else []
    present = [marker for marker in markers if marker.exists()]
    for marker in present:
        marker.unlink(missing_ok=True)
    return len(present)


def demo_drive(folder: Path) -> Drive:
    meta = json.loads((folder / "drive.json").read_text())
    read_only = bool(meta.get("read_only"))
    fs_type = meta.get("fs_type", "vfat")
    reason = judge(bus="usb", fs_usage="filesystem" if fs_type else "", fs_type=fs_type,
                   read_only=read_only, system=False)
    return Drive(
        id=drive_id("demo", folder.name), device=f"demo:{folder.name}", label=meta.get("label", ""),
        fs_type=fs_type, size_bytes=int(meta.get("size_bytes", DEFAULT_SIZE)), vendor="Demo",
        model="USB Drive", serial=f"DEMO-{folder.name.upper()}", read_only=read_only, removable=True,
        bus="usb", eligible=reason is None, reason=reason, sys_path=str(folder),
    )


def scan_demo(data_dir: Path) -> list[Drive]:
    """Every inserted, not ejected, demo drive; a half-written drive.json is skipped until complete."""
    base = demo_drives_dir(data_dir)
    drives = []
    for folder in sorted(base.iterdir()) if base.is_dir() else ():
        if (folder / "drive.json").is_file() and not (folder / "ejected").exists():
            try:
                drives.append(demo_drive(folder))
            except (ValueError, OSError):
                continue
    return drives


def demo_signature(data_dir: Path) -> tuple:
    """Cheap fingerprint of the demo folder, polled to notice insert/remove/eject from any process."""
    base = demo_drives_dir(data_dir)
    entries = []
    for folder in sorted(base.iterdir()) if base.is_dir() else ():
        for marker in ("drive.json", "ejected"):
            try:
                entries.append((folder.name, marker, (folder / marker).stat().st_mtime_ns))
            except FileNotFoundError:
                continue
    return tuple(entries)


class DemoMounter:
    """Mounting a demo drive is finding its folder; free space is its nominal size minus what it holds."""

    def mount(self, drive: Drive, read_only: bool = False) -> Volume:
        folder = Path(drive.sys_path)
        if not (folder / "root").is_dir() or (folder / "ejected").exists():
            raise DriveRemoved(f"{drive.device} is not inserted", device=drive.device)
        if drive.fs_type not in NAME_OPTIONS:
            raise UnsupportedFilesystem(f"will not mount {drive.fs_type}", device=drive.device)
        return Volume(folder / "root", read_only=drive.read_only or read_only,
                      free_bytes=lambda: drive.size_bytes - _used_bytes(folder / "root"))

    def unmount(self, drive: Drive) -> None:
        if not Path(drive.sys_path, "root").is_dir():
            raise DriveRemoved(f"{drive.device} is not inserted", device=drive.device)

    def power_off(self, drive: Drive) -> None:
        folder = Path(drive.sys_path)
        if folder.is_dir():
            (folder / "ejected").touch()
            event("drive.demo_powered_off", device=drive.device, id=drive.id)


def _used_bytes(root: Path) -> int:
    return sum(path.lstat().st_size for path in root.rglob("*") if not path.is_symlink())

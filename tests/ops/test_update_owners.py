"""appliance/rauc/same-owners, which RAUC's post-install handler runs before a new slot may boot: the
users and groups that own the data partition's files must keep their ids in the new slot. The two
systems' /etc/passwd and /etc/group are made by the real systemd-sysusers from the package's own
sysusers file, as the image build makes them; the "data partition" holds files owned as the kiosk's are."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.system.appliance import REPO
from tests.tools import require_command

SAME_OWNERS = REPO / "appliance" / "rauc" / "same-owners"


def system_root(path: Path, *, users_before: str = "") -> Path:
    """A root whose system users systemd-sysusers made from systemd/cert-kiosk.sysusers, after
    `users_before` (a sysusers file read first, as a new package in a later image would be)."""
    sysusers = path / "usr" / "lib" / "sysusers.d"
    sysusers.mkdir(parents=True)
    (path / "etc").mkdir()
    shutil.copy(REPO / "systemd" / "cert-kiosk.sysusers", sysusers / "cert-kiosk.conf")
    if users_before:
        (sysusers / "a-first.conf").write_text(users_before)
    subprocess.run([require_command("systemd-sysusers", "systemd"), f"--root={path}"], check=True,
                   capture_output=True)
    return path


def ids(root: Path, name: str) -> tuple[int, int]:
    for line in (root / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2]), int(fields[3])
    raise AssertionError(f"{name} not in {root}/etc/passwd")


def data_partition(path: Path, running: Path) -> Path:
    """The kiosk's database directory and the CA's keys, owned as on a running kiosk."""
    for user, folder in (("cert-kiosk", "cert-kiosk"), ("cert-kiosk-ca", "cert-kiosk-ca")):
        (path / folder).mkdir(parents=True)
        (path / folder / "state").write_text("x")
        for item in (path / folder, path / folder / "state"):
            os.chown(item, *ids(running, user))
    return path


def same_owners(data: Path, running: Path, new: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(SAME_OWNERS), str(data), str(running), str(new)], capture_output=True,
                          text=True)


def test_a_new_slot_with_the_same_users_keeps_the_data(tmp_path):
    running = system_root(tmp_path / "a")
    checked = same_owners(data_partition(tmp_path / "data", running), running, system_root(tmp_path / "b"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_new_slot_whose_users_moved_is_refused_with_each_id_that_moved(tmp_path):
    running = system_root(tmp_path / "a")
    moved = system_root(tmp_path / "b", users_before="u kiosk-camera - \"a user a later version adds\"\n")
    assert ids(moved, "cert-kiosk") != ids(running, "cert-kiosk"), "the later version's users did move"

    checked = same_owners(data_partition(tmp_path / "data", running), running, moved)

    assert checked.returncode == 1
    assert f"update.owner_moved passwd=cert-kiosk running={ids(running, 'cert-kiosk')[0]} " \
           f"new={ids(moved, 'cert-kiosk')[0]}" in checked.stdout, checked.stdout


def test_a_user_missing_from_the_new_slot_is_refused(tmp_path):
    running = system_root(tmp_path / "a")
    without_ca = tmp_path / "b"
    system_root(without_ca)
    passwd = without_ca / "etc" / "passwd"
    passwd.write_text("".join(line + "\n" for line in passwd.read_text().splitlines()
                              if not line.startswith("cert-kiosk-ca:")))

    checked = same_owners(data_partition(tmp_path / "data", running), running, without_ca)

    assert checked.returncode == 1 and "passwd=cert-kiosk-ca" in checked.stdout and "new=missing" in checked.stdout

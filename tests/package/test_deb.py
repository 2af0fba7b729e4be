"""`make deb` as a technician's machine receives it: what the package holds, what dpkg is told about it,
and lintian's verdict. Built once per content (packaging/build-deb.sh caches by the hash of its inputs under
$CERT_KIOSK_CACHE); installing it for real is the appliance test's job (tests/system/)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.tools import require_command

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def deb(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(["sh", "packaging/build-deb.sh", str(out)], cwd=REPO, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return Path(result.stdout.strip().splitlines()[-1])


def dpkg_deb(*args: str) -> str:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, check=True).stdout


def test_the_package_is_named_and_versioned_from_pyproject(deb):
    assert deb.name == "cert-kiosk_0.1.0_amd64.deb"
    assert dpkg_deb("--field", str(deb), "Package", "Version", "Architecture").split() == [
        "Package:", "cert-kiosk", "Version:", "0.1.0", "Architecture:", "amd64"]


def test_depends_on_what_the_kiosk_runs_with(deb):
    depends = dpkg_deb("--field", str(deb), "Depends")
    for package in ("udisks2", "polkitd", "cage", "xwayland", "chromium", "fonts-noto-cjk", "seatd",
                    "python3 (>= 3.11)", "python3 (<< 3.12)", "libpam-systemd", "usbguard", "espeak-ng"):
        assert package in depends, package


def test_files_are_where_debian_and_the_units_expect_them(deb):
    listing = {line.split()[-1].lstrip("."): line.split()[0] for line in dpkg_deb("--contents", str(deb)).splitlines()
               if not line.startswith("d")}
    for path in ("/lib/systemd/system/cert-kiosk.service", "/lib/systemd/system/cert-kiosk-browser.service",
                 "/lib/systemd/system/cert-kiosk-ca.service",
                 "/usr/lib/sysusers.d/cert-kiosk.conf", "/usr/lib/tmpfiles.d/cert-kiosk.conf",
                 "/usr/share/polkit-1/rules.d/50-cert-kiosk.rules", "/etc/pam.d/cert-kiosk-browser",
                 "/etc/chromium/policies/managed/cert-kiosk.json", "/opt/cert-kiosk/.venv/bin/kiosk",
                 "/opt/cert-kiosk/templates/base.html", "/usr/share/doc/cert-kiosk/copyright",
                 "/opt/cert-kiosk/kiosk/translations/ko/LC_MESSAGES/messages.mo"):
        assert path in listing, path
    assert listing["/etc/cert-kiosk/kiosk.env"] == "-rw-------"
    # the USB policy (usbguard refuses rule files others can read) and the keyboard layout without shortcuts
    for path in ("/etc/usbguard/rules.d/50-cert-kiosk.conf", "/etc/usbguard/cert-kiosk-daemon.conf",
                 "/etc/usbguard/cert-kiosk-local.conf"):
        assert listing[path] == "-rw-------", path
    assert "/lib/systemd/system/usbguard.service.d/cert-kiosk.conf" in listing
    assert "/etc/xkb/symbols/cert-kiosk" in listing and "/lib/udev/hwdb.d/60-cert-kiosk-keys.hwdb" in listing
    assert not [p for p in listing if "__pycache__" in p or p.startswith("/opt/cert-kiosk/tests")]
    assert not [p for p in listing if "/site-packages/pip/" in p], "pip only builds the venv"


def test_the_venv_runs_on_debian_12s_own_python(deb, tmp_path):
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path)], check=True)
    config = (tmp_path / "opt/cert-kiosk/.venv/pyvenv.cfg").read_text()
    assert "home = /usr/bin\n" in config and "version = 3.11." in config


def test_the_id_card_readers_compiled_wheels_load_from_the_package(deb, tmp_path):
    """numpy's OpenBLAS, OpenCV and tesserocr as packaged: stripping auditwheel's vendored libraries once
    broke numpy inside the package (and so the camera step on the appliance) while the venv of the tests
    was fine."""
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path)], check=True)
    probe = "import numpy, cv2, tesserocr; numpy.linalg.inv(numpy.eye(3)); print(tesserocr.tesseract_version()[:9])"
    result = subprocess.run([str(tmp_path / "opt/cert-kiosk/.venv/bin/python"), "-c", probe], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and "tesseract" in result.stdout, result.stderr[-2000:]


def test_an_edited_env_file_is_a_conffile_and_state_goes_only_on_purge(deb, tmp_path):
    subprocess.run(["dpkg-deb", "--control", str(deb), str(tmp_path)], check=True)
    assert "/etc/cert-kiosk/kiosk.env\n" in (tmp_path / "conffiles").read_text()
    postrm = (tmp_path / "postrm").read_text()
    purge = postrm.split('if [ "$1" = "purge" ]', 1)
    assert len(purge) == 2 and "rm -rf /var/lib/cert-kiosk" in purge[1]
    assert "/var/lib/cert-kiosk" not in purge[0].split("set -e", 1)[1]
    postinst = (tmp_path / "postinst").read_text()
    assert "systemd-sysusers cert-kiosk.conf" in postinst and "deb-systemd-helper enable" in postinst


def test_lintian_finds_no_errors(deb):
    lintian = require_command("lintian", "lintian")
    result = subprocess.run([lintian, "--allow-root", str(deb)], capture_output=True, text=True, timeout=600)
    errors = [line for line in result.stdout.splitlines() if line.startswith("E:")]
    assert errors == [], "\n".join(errors)

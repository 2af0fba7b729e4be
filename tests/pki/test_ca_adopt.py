"""An upgrade from a kiosk whose embedded CA lived in its own data directory (before cert-kiosk-ca.service):
`kiosk ca adopt` takes over that CA — keys, certificates, and its ledger with every revocation — so that
certificates it issued can still be revoked and renewed, and what it revoked stays on the CRL.

The old kiosk is made by the old product itself (`git archive` of the last release before the change, run
with `kiosk init --demo`, `kiosk selftest` and `kiosk ca revoke`), never laid out by hand."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from cryptography import x509

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
RELEASE_BEFORE_THE_CA_UNIT = "74b1125"  # main before issue 30: the CA under KIOSK_DATA_DIR/ca


def kiosk(code: Path, env: dict, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=code, env={**env, "PYTHONPATH": str(code)},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def old_kiosk(tmp_path_factory) -> tuple[Path, str, str]:
    """The old product's data directory, with one certificate issued and revoked, one issued and kept."""
    root = tmp_path_factory.mktemp("old-release")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", RELEASE_BEFORE_THE_CA_UNIT, "kiosk", "hardware"],
                             capture_output=True, check=True, timeout=120).stdout
    tarfile.open(fileobj=io.BytesIO(archive)).extractall(root / "code", filter="data")
    data_dir = root / "var"
    env = {**os.environ, "KIOSK_MODE": "demo", "KIOSK_DATA_DIR": str(data_dir), "KIOSK_CA_DIR": ""}
    kiosk(root / "code", env, "init", "--demo")
    (root / "password").write_text("Kiosk!2580x\n", encoding="utf-8")
    serials = []
    for n in range(2):
        out = kiosk(root / "code", env, "selftest", "--out", str(root / f"out{n}"), "--name", "홍길동",
                    "--rrn", "900101-1234568", "--password-file", str(root / "password"))
        serials.append(re.search(r"serial:\s+(\S+)", out).group(1))
    kiosk(root / "code", env, "ca", "revoke", serials[0], "--reason", "keyCompromise")
    return data_dir, serials[0], serials[1]


def new_env(tmp_path) -> dict:
    return {**os.environ, "KIOSK_MODE": "demo", "KIOSK_DATA_DIR": str(tmp_path / "ca-unit"),
            "KIOSK_CA_DIR": str(tmp_path / "ca-unit" / "ca"), "KIOSK_CA_LISTEN": f"127.0.0.1:{free_port()}"}


def test_the_ca_unit_adopts_the_old_ca_with_its_revocations_and_removes_the_old_copy(old_kiosk, tmp_path):
    data_dir, revoked, kept = old_kiosk
    old_issuing = (data_dir / "ca" / "issuing.crt.pem").read_bytes()
    beside_the_database = sorted(p.name for p in data_dir.iterdir() if p.name != "ca")
    env = new_env(tmp_path)
    out = kiosk(REPO, env, "ca", "adopt", str(data_dir))
    assert "2 certificates (1 revoked)" in out
    new_ca = tmp_path / "ca-unit" / "ca"
    assert (new_ca / "issuing.crt.pem").read_bytes() == old_issuing  # the same CA, not a new one
    assert not (data_dir / "ca").exists()  # the kiosk's user can no longer read the keys there
    assert (new_ca / "issuing.key.pem").stat().st_mode & 0o077 == 0
    # nothing written beside the kiosk's database (postinst runs this as root: no root-owned WAL there)
    assert sorted(p.name for p in data_dir.iterdir()) == beside_the_database

    crl = x509.load_der_x509_crl((new_ca / "crl.der").read_bytes())
    on_the_crl = {format(entry.serial_number, "x").upper() for entry in crl}
    assert revoked.upper().lstrip("0") in {s.lstrip("0") for s in on_the_crl}
    assert kept.upper().lstrip("0") not in {s.lstrip("0") for s in on_the_crl}

    # the upgraded kiosk (its unit runs `kiosk init` first) has the adopted CA revoke what it issued before
    upgraded = {**env, "KIOSK_DATA_DIR": str(data_dir)}
    kiosk(REPO, upgraded, "init", "--demo")
    kiosk(REPO, upgraded, "ca", "revoke", kept, "--reason", "keyCompromise")
    crl = x509.load_der_x509_crl((new_ca / "crl.der").read_bytes())
    assert len(list(crl)) == 2


def test_adopting_again_keeps_the_ca_in_place_and_a_missing_old_ca_is_said(old_kiosk, tmp_path):
    env = new_env(tmp_path)
    missing = subprocess.run([sys.executable, "-m", "kiosk", "ca", "adopt", str(tmp_path / "nowhere")],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert missing.returncode != 0 and "no embedded CA in" in missing.stderr
    assert not (tmp_path / "ca-unit" / "ca").exists()
    kiosk(REPO, env, "ca", "init")
    assert "present, nothing adopted" in kiosk(REPO, env, "ca", "adopt", str(old_kiosk[0]))

"""`kiosk init`, `kiosk selftest`, `kiosk ca show|revoke`, and GET /pki/crl, end to end on a real data dir."""

import re

import pytest
from click.testing import CliRunner
from cryptography import x509
from pki_helpers import PASSWORD, openssl
from pypinksign import PinkSign

from kiosk.cli import main
from kiosk.pki.embedded import EmbeddedCA
from kiosk.pki.profile import read_identify_data
from kiosk.pki.vid import compute_vid
from kiosk.web import create_app


@pytest.fixture
def kiosk(monkeypatch, data_dir):
    monkeypatch.setenv("KIOSK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KIOSK_MODE", "demo")
    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert (result.exit_code == 0) is ok, result.output
        return result.output

    return run


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "password"
    path.write_text(PASSWORD + "\n")
    return path


def selftest_args(out, password_file, name="홍길동", rrn="900101-1234568") -> list[str]:
    return ["selftest", "--out", str(out), "--name", name, "--rrn", rrn, "--password-file", str(password_file)]


def test_init_creates_the_demo_ca_once(kiosk, data_dir):
    assert "demo certificate authority" in kiosk("init", "--demo")
    key_before = (data_dir / "ca" / "issuing.key.pem").read_bytes()
    assert "present" in kiosk("init")
    assert (data_dir / "ca" / "issuing.key.pem").read_bytes() == key_before
    assert (data_dir / "ca" / "crl.der").is_file()


def test_selftest_writes_a_bundle_that_independent_readers_open(kiosk, tmp_path, password_file):
    kiosk("init", "--demo")
    out = kiosk(*selftest_args(tmp_path / "usb", password_file), "--english-name", "HONG GILDONG")
    folder = tmp_path.joinpath(re.search(r"^bundle:\s+(.+)$", out, re.M).group(1))
    chain = tmp_path.joinpath(re.search(r"^chain:\s+(.+)$", out, re.M).group(1))
    assert folder.parent.parent.parent == tmp_path / "usb" / "NPKI"
    sign = PinkSign(
        pubkey_path=str(folder / "signCert.der"),
        prikey_path=str(folder / "signPri.key"),
        prikey_password=PASSWORD.encode(),
    )
    certificate = x509.load_der_x509_certificate((folder / "signCert.der").read_bytes())
    assert read_identify_data(certificate)[1] == compute_vid("9001011234568", sign._rand_num.asOctets())
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(openssl("x509", "-inform", "DER", "-in", str(folder / "signCert.der")).stdout)
    assert b": OK" in openssl("verify", "-CAfile", str(chain), str(leaf)).stdout


def test_selftest_refuses_a_bad_identity_or_password(kiosk, tmp_path, password_file):
    kiosk("init", "--demo")
    out = kiosk(*selftest_args(tmp_path / "usb", password_file, rrn="901301-1234567"), ok=False)
    assert "resident registration number" in out
    weak = tmp_path / "weak"
    weak.write_text("abc")
    out = kiosk(*selftest_args(tmp_path / "usb", weak), ok=False)
    assert "length" in out
    assert not (tmp_path / "usb").exists()


def test_selftest_refuses_a_production_ca_unless_allowed(
    kiosk, data_dir, tmp_path, password_file, monkeypatch
):
    monkeypatch.setenv("KIOSK_CA_PASSPHRASE", "a production passphrase")
    EmbeddedCA.create(data_dir / "ca", "a production passphrase", demo=False)
    assert "present" in kiosk("init")  # creates the database, keeps the CA
    args = selftest_args(tmp_path / "usb", password_file)
    assert "--allow-production-ca" in kiosk(*args, ok=False)
    out = kiosk(*args, "--allow-production-ca")
    assert "revoked:" in out


def test_ca_show_and_revoke(kiosk, tmp_path, password_file, data_dir):
    kiosk("init", "--demo")
    show = kiosk("ca", "show")
    assert re.search(r"root .*Root CA DEMO", show) and re.search(r"\(\d+ days left\)", show)
    out = kiosk(*selftest_args(tmp_path / "usb", password_file))
    serial = re.search(r"^serial:\s+(\w+)$", out, re.M).group(1)
    assert "CRL published" in kiosk("ca", "revoke", serial.lower(), "--reason", "keyCompromise")
    crl = x509.load_der_x509_crl((data_dir / "ca" / "crl.der").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None
    assert "never issued" in kiosk("ca", "revoke", "AB" * 20, "--reason", "keyCompromise", ok=False)


def test_crl_is_served(kiosk, data_dir):
    app = create_app({"data_dir": data_dir, "mode": "demo", "TESTING": True})
    client = app.test_client()
    assert client.get("/pki/crl").status_code == 503  # no CA yet: said, not hidden
    kiosk("init", "--demo")
    app = create_app({"data_dir": data_dir, "mode": "demo", "TESTING": True})
    response = app.test_client().get("/pki/crl")
    assert response.status_code == 200
    assert response.mimetype == "application/pkix-crl"
    assert response.headers["Cache-Control"] == "max-age=300"  # a relying party may keep it five minutes
    x509.load_der_x509_crl(response.data)


def test_selftest_on_a_fresh_demo_data_dir_needs_no_init(kiosk, tmp_path, password_file):
    out = kiosk(*selftest_args(tmp_path / "usb", password_file, name="Kim Minjun", rrn="0501014234567"))
    assert "demo certificate authority" in out and "VID matches" in out

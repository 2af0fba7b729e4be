"""The bundle opened by independent readers: PyPinkSign and OpenSSL's CLI; chain and CRL via OpenSSL."""

import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pki_helpers import LEGACY, PASSWORD, RRN, openssl, write_bundle
from pypinksign import PinkSign

from kiosk.pki.profile import read_identify_data
from kiosk.pki.vid import compute_vid


@pytest.fixture
def drive(tmp_path, service, applicant):
    """A bundle written the way a drive receives it, and the CA files beside (not on the drive)."""
    prepared = service.prepare(applicant, PASSWORD)
    folder = write_bundle(tmp_path / "drive", prepared.bundle)
    chain = x509.load_pem_x509_certificates(service.ca_chain_pem())
    (tmp_path / "issuing.pem").write_bytes(chain[0].public_bytes(serialization.Encoding.PEM))
    (tmp_path / "root.pem").write_bytes(chain[1].public_bytes(serialization.Encoding.PEM))
    (tmp_path / "pw").write_text(PASSWORD)
    return prepared, folder, tmp_path


def test_the_tree_is_what_readers_scan(drive):
    prepared, folder, tmp_path = drive
    assert folder.parent.parent.parent.name == "NPKI" and folder.parent.name == "USER"
    assert sorted(p.name for p in folder.iterdir()) == ["signCert.der", "signPri.key"]
    assert folder.name == prepared.subject_dn


def test_pypinksign_opens_the_bundle_and_reads_r(drive):
    prepared, folder, _ = drive
    sign = PinkSign(
        pubkey_path=str(folder / "signCert.der"),
        prikey_path=str(folder / "signPri.key"),
        prikey_password=PASSWORD.encode(),
    )
    assert sign.cn() == prepared.common_name
    assert sign.verify(sign.sign(b"transfer 10000 KRW"), b"transfer 10000 KRW")
    r = sign._rand_num.asOctets()  # PyPinkSign keeps R as it found it in the PKCS#8 attributes
    certificate = x509.load_der_x509_certificate((folder / "signCert.der").read_bytes())
    assert read_identify_data(certificate)[1] == compute_vid(RRN, r)


def test_pypinksign_refuses_the_wrong_password(drive):
    _, folder, _ = drive
    with pytest.raises(ValueError):
        PinkSign(
            pubkey_path=str(folder / "signCert.der"),
            prikey_path=str(folder / "signPri.key"),
            prikey_password=b"Wrong!2580x",
        )


def test_openssl_opens_the_key_and_it_matches_the_certificate(drive):
    _, folder, tmp_path = drive
    key_pem = openssl(
        "pkcs8",
        "-inform",
        "DER",
        "-in",
        str(folder / "signPri.key"),
        "-passin",
        f"file:{tmp_path / 'pw'}",
        *LEGACY,
    ).stdout
    key_modulus = openssl("rsa", "-noout", "-modulus", input=key_pem).stdout
    cert_modulus = openssl(
        "x509", "-inform", "DER", "-in", str(folder / "signCert.der"), "-noout", "-modulus"
    ).stdout
    assert key_modulus == cert_modulus


def test_openssl_verifies_the_chain(drive):
    _, folder, tmp_path = drive
    leaf = openssl("x509", "-inform", "DER", "-in", str(folder / "signCert.der")).stdout
    (tmp_path / "leaf.pem").write_bytes(leaf)
    result = openssl(
        "verify",
        "-CAfile",
        str(tmp_path / "root.pem"),
        "-untrusted",
        str(tmp_path / "issuing.pem"),
        str(tmp_path / "leaf.pem"),
    )
    assert b": OK" in result.stdout


def test_openssl_checks_the_crl_and_sees_a_revocation(drive, service):
    prepared, _, tmp_path = drive
    service.abandon(prepared.serial)
    (tmp_path / "crl.der").write_bytes(service.crl_der())
    text = openssl(
        "crl", "-inform", "DER", "-in", str(tmp_path / "crl.der"), "-noout", "-text"
    ).stdout.decode()
    # OpenSSL prints the serial as the integer's bytes: a serial whose hex starts with 00 loses that byte
    assert f"{int(prepared.serial, 16):X}" in text.replace(":", "").upper()
    assert "Cessation Of Operation" in text
    openssl(
        "crl",
        "-inform",
        "DER",
        "-in",
        str(tmp_path / "crl.der"),
        "-noout",
        "-CAfile",
        str(tmp_path / "issuing.pem"),
    )
    crl_pem = openssl("crl", "-inform", "DER", "-in", str(tmp_path / "crl.der")).stdout
    (tmp_path / "crl.pem").write_bytes(crl_pem)
    leaf = openssl(
        "x509", "-inform", "DER", "-in", str(tmp_path / "drive" / prepared.bundle.folder / "signCert.der")
    ).stdout
    (tmp_path / "leaf.pem").write_bytes(leaf)
    (tmp_path / "chain.pem").write_bytes(
        (tmp_path / "issuing.pem").read_bytes() + (tmp_path / "root.pem").read_bytes()
    )
    result = subprocess_verify_crl(tmp_path)
    assert "certificate revoked" in result


def subprocess_verify_crl(tmp_path) -> str:
    """`openssl verify -crl_check` must fail on a revoked certificate (so no `openssl()` helper here)."""
    result = subprocess.run(
        [
            "/usr/bin/openssl",
            "verify",
            "-crl_check",
            "-CAfile",
            str(tmp_path / "chain.pem"),
            "-CRLfile",
            str(tmp_path / "crl.pem"),
            str(tmp_path / "leaf.pem"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    return result.stdout + result.stderr

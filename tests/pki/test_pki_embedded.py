"""The embedded CA's files: created once, keys encrypted and 0600, refused with the wrong passphrase."""

import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from kiosk.pki.bundle import build_bundle
from kiosk.pki.ca import parse_serial
from kiosk.pki.embedded import EmbeddedCA, Profile
from kiosk.pki.errors import CaError, CaNotInitialised, CaPassphraseWrong, PkiError
from kiosk.settings import DEMO_CA_PASSPHRASE


def test_key_files_are_private_and_encrypted(installed_ca):
    # the directory's group (the kiosk's) may list it and read the certificates, never the keys
    assert stat.S_IMODE(installed_ca.stat().st_mode) == 0o750
    for name in ("chain.pem", "issuing.crt.pem", "root.crt.pem"):
        assert stat.S_IMODE((installed_ca / name).stat().st_mode) & 0o040
    assert stat.S_IMODE((installed_ca / "ca.json").stat().st_mode) == 0o600
    for role in ("root", "issuing"):
        path = installed_ca / f"{role}.key.pem"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
        with pytest.raises(TypeError):
            serialization.load_pem_private_key(path.read_bytes(), password=None)


def test_the_chain_is_issuing_then_root(installed_ca):
    issuing, root = x509.load_pem_x509_certificates((installed_ca / "chain.pem").read_bytes())
    assert issuing.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    issuing.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)


def test_a_ca_is_created_only_once(installed_ca):
    with pytest.raises(CaError, match="only once"):
        EmbeddedCA.create(installed_ca, DEMO_CA_PASSPHRASE, demo=True)


def test_the_wrong_passphrase_is_named(installed_ca, store):
    ca = EmbeddedCA(installed_ca, "not the passphrase", store, Profile("http://x/pki", "KPB", "11"))
    with pytest.raises(CaPassphraseWrong, match="KIOSK_CA_PASSPHRASE"):
        ca.check_passphrase()
    assert "not the passphrase" not in repr(ca)


def test_no_ca_yet_says_run_init(tmp_path, store):
    ca = EmbeddedCA(tmp_path / "ca", DEMO_CA_PASSPHRASE, store, Profile("http://x/pki", "KPB", "11"))
    with pytest.raises(CaNotInitialised, match="kiosk init"):
        ca.crl_der()


def test_production_ca_is_marked_so(tmp_path, store):
    EmbeddedCA.create(tmp_path / "ca", "a production passphrase", demo=False)
    ca = EmbeddedCA(tmp_path / "ca", "a production passphrase", store, Profile("http://x/pki", "KPB", "11"))
    assert not ca.is_demo
    assert "DEMO" not in ca.issuer_name()


@pytest.mark.parametrize("text", ["0x" + "ab" * 20, "AB:" * 19 + "AB", "ab" * 20])
def test_serials_as_technicians_type_them(text):
    assert parse_serial(text) == "AB" * 20


@pytest.mark.parametrize("text", ["", "zz", "0", "1" * 50])
def test_not_a_serial(text):
    with pytest.raises(PkiError):
        parse_serial(text)


@pytest.mark.parametrize("folder", ["..", "a/b", "a\\b", "", "x:y", " lead"])
def test_a_bundle_never_leaves_its_folder(folder):
    with pytest.raises(ValueError):
        build_bundle("yessign", folder, b"c", b"k")
    with pytest.raises(ValueError):
        build_bundle(folder, "cn=x", b"c", b"k")

"""IssuanceService over a real SQLite registry and the embedded CA: issue, deliver, reissue, renew,
abandon, revoke, and what must never be stored or logged."""

import logging
import sqlite3
from datetime import timedelta

import pytest
from cryptography import x509
from pki_helpers import PASSWORD, RRN

from kiosk.pki.ca import Predecessor
from kiosk.pki.errors import InvalidTransition, NotRenewable, UnknownCertificate, WeakPassword
from kiosk.pki.issuance import Applicant, IssuanceService
from kiosk.pki.keyfile import decrypt_private_key
from kiosk.pki.profile import one_year_after


def revoked_serials(service) -> dict[str, x509.ReasonFlags | None]:
    crl = x509.load_der_x509_crl(service.crl_der())
    found = {}
    for entry in crl:
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        except x509.ExtensionNotFound:
            reason = None
        found[f"{entry.serial_number:040X}"] = reason
    return found


def predecessor_of(prepared) -> Predecessor:
    """The certificate as the customer's stick holds it, and its key opened with the password."""
    (_, der), (_, key_file) = prepared.bundle.files
    return Predecessor(x509.load_der_x509_certificate(der), decrypt_private_key(key_file, PASSWORD).key)


def test_prepare_records_an_issued_certificate(service, applicant):
    prepared = service.prepare(applicant, PASSWORD)
    (record,) = service.certificates_for(applicant.customer_key)
    assert record.serial == prepared.serial
    assert record.status == "issued"
    assert record.common_name == prepared.common_name
    assert (record.not_before, record.not_after) == (prepared.not_before, prepared.not_after)
    assert prepared.issuer_name == "cert-kiosk Issuing CA DEMO"
    assert prepared.replaces is None


def test_a_weak_password_issues_nothing(service, applicant):
    with pytest.raises(WeakPassword) as error:
        service.prepare(applicant, "short1!")
    assert error.value.unmet == ["length"]
    assert service.certificates_for(applicant.customer_key) == []


def test_delivery_then_abandon_changes_nothing(service, applicant):
    prepared = service.prepare(applicant, PASSWORD)
    service.mark_delivered(prepared.serial, "DRIVE-1")
    service.mark_delivered(prepared.serial, "DRIVE-1")  # a retry is harmless
    assert service.abandon(prepared.serial) is False
    (record,) = service.certificates_for(applicant.customer_key)
    assert (record.status, record.delivered_to) == ("delivered", "DRIVE-1")
    assert prepared.serial not in revoked_serials(service)


def test_abandoning_an_undelivered_certificate_revokes_it_once(service, applicant):
    prepared = service.prepare(applicant, PASSWORD)
    assert service.abandon(prepared.serial) is True
    assert service.abandon(prepared.serial) is False
    (record,) = service.certificates_for(applicant.customer_key)
    assert (record.status, record.revocation_reason) == ("revoked", "cessationOfOperation")
    assert revoked_serials(service)[prepared.serial] == x509.ReasonFlags.cessation_of_operation
    with pytest.raises(InvalidTransition):
        service.mark_delivered(prepared.serial, "DRIVE-1")


def test_start_up_revokes_every_undelivered_certificate(service, applicant, caplog):
    delivered = service.prepare(applicant, PASSWORD)
    service.mark_delivered(delivered.serial, "DRIVE-1")
    left = [service.prepare(applicant, PASSWORD).serial for _ in range(2)]
    with caplog.at_level(logging.INFO, logger="cert-kiosk"):
        assert service.revoke_undelivered() == 2
    assert "pki.undelivered_revoked count=2" in caplog.text
    assert service.revoke_undelivered() == 0
    assert set(left) <= set(revoked_serials(service))
    assert delivered.serial not in revoked_serials(service)


def test_reissue_keeps_the_expiry_and_supersedes_on_delivery(service, applicant, pki_settings, store, clock):
    old = service.prepare(applicant, PASSWORD)
    service.mark_delivered(old.serial, "DRIVE-1")
    clock.advance(timedelta(days=100).total_seconds())
    new = service.prepare(applicant, "Another#2468x", replaces=old.serial)
    assert new.replaces == old.serial
    assert new.not_after == old.not_after
    assert new.not_before == clock.utcnow()
    assert old.serial not in revoked_serials(service)  # not until the new one is on the drive
    service.mark_delivered(new.serial, "DRIVE-2")
    assert revoked_serials(service)[old.serial] == x509.ReasonFlags.superseded
    statuses = {
        r.serial: (r.status, r.revocation_reason) for r in service.certificates_for(applicant.customer_key)
    }
    assert statuses == {old.serial: ("revoked", "superseded"), new.serial: ("delivered", None)}


def test_an_abandoned_reissue_leaves_the_old_certificate_valid(service, applicant):
    old = service.prepare(applicant, PASSWORD)
    service.mark_delivered(old.serial, "DRIVE-1")
    new = service.prepare(applicant, PASSWORD, replaces=old.serial)
    service.abandon(new.serial)
    assert old.serial not in revoked_serials(service)


def test_reissue_of_another_customers_certificate_is_refused(service, applicant):
    old = service.prepare(applicant, PASSWORD)
    stranger = Applicant("김철수", "", RRN, "s" * 32)
    with pytest.raises(InvalidTransition):
        service.prepare(stranger, PASSWORD, replaces=old.serial)
    with pytest.raises(UnknownCertificate):
        service.prepare(applicant, PASSWORD, replaces="AB" * 20)


def test_renewal_window_is_the_last_30_days(service, applicant, clock):
    prepared = service.prepare(applicant, PASSWORD)
    service.mark_delivered(prepared.serial, "DRIVE-1")
    (record,) = service.certificates_for(applicant.customer_key)
    expiry = record.not_after
    assert not service.renewable(record, expiry - timedelta(days=30, seconds=1))
    assert service.renewable(record, expiry - timedelta(days=30))
    assert service.renewable(record, expiry - timedelta(seconds=1))
    assert not service.renewable(record, expiry)
    with pytest.raises(NotRenewable):
        service.prepare(applicant, PASSWORD, renews=prepared.serial, predecessor=predecessor_of(prepared))
    clock.t = (expiry - timedelta(days=10)).timestamp()
    with pytest.raises(NotRenewable):  # without the old key, nothing proves the customer holds it
        service.prepare(applicant, PASSWORD, renews=prepared.serial)
    renewed = service.prepare(applicant, PASSWORD, renews=prepared.serial, predecessor=predecessor_of(prepared))
    assert renewed.not_after == one_year_after(clock.utcnow())  # one year from the renewal (NPKI.md)
    assert prepared.serial not in revoked_serials(service)  # not before the new one is on the stick
    service.mark_delivered(renewed.serial, "DRIVE-1")
    assert prepared.serial in revoked_serials(service)


def test_revocation_publishes_a_new_crl_each_time(service, applicant):
    numbers = []
    for _ in range(2):
        prepared = service.prepare(applicant, PASSWORD)
        service.revoke(prepared.serial, "keyCompromise")
        crl = x509.load_der_x509_crl(service.crl_der())
        numbers.append(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
    assert numbers[1] > numbers[0]


def test_the_crl_is_refreshed_before_it_lapses(service, clock):
    first = x509.load_der_x509_crl(service.crl_der())
    clock.advance(timedelta(days=6, hours=12).total_seconds())
    second = x509.load_der_x509_crl(service.crl_der())
    assert second.next_update_utc > first.next_update_utc


def test_the_crl_and_chain_verify(service):
    issuing, root = x509.load_pem_x509_certificates(service.ca_chain_pem())
    issuing.verify_directly_issued_by(root)
    assert x509.load_der_x509_crl(service.crl_der()).is_signature_valid(issuing.public_key())


def test_no_resident_number_or_password_in_the_database_or_logs(service, applicant, pki_settings, caplog):
    with caplog.at_level(logging.DEBUG):
        prepared = service.prepare(applicant, PASSWORD)
        service.mark_delivered(prepared.serial, "DRIVE-1")
        service.revoke(prepared.serial, "keyCompromise")
    stored = b"".join(p.read_bytes() for p in pki_settings.data_dir.glob("kiosk.sqlite3*"))
    for secret in (RRN, RRN[6:], PASSWORD):
        assert secret.encode() not in stored
        assert secret not in caplog.text
    assert "issue.certificate_issued" in caplog.text
    assert "pki.certificate_revoked" in caplog.text
    assert applicant.rrn not in repr(applicant)


def test_the_cmp_backend_without_its_settings_is_reported_not_papered_over(pki_settings, store):
    from kiosk.pki.errors import CaError

    with pytest.raises(CaError, match="KIOSK_CA=cmp needs KIOSK_CMP_URL, KIOSK_CMP_CA_CERTS, KIOSK_CMP_KEK_CERT"):
        IssuanceService.from_settings(pki_settings.with_overrides(ca_backend="cmp").pki, store)


def test_one_unrevocable_certificate_does_not_stop_the_others(service, applicant, store, caplog):
    left = [service.prepare(applicant, PASSWORD).serial for _ in range(2)]
    store.execute("DELETE FROM embedded_ca_issued WHERE serial = ?", (left[0],))  # as if the CA was recreated
    with caplog.at_level(logging.INFO, logger="cert-kiosk"):
        assert service.revoke_undelivered() == 1
    assert f"pki.revocation_failed serial={left[0]}" in caplog.text
    assert left[1] in revoked_serials(service)


def test_a_certificate_signed_but_never_recorded_is_revoked_at_the_next_start(service, applicant, store, caplog):
    """The database refuses the registry row and then the CA's revocation (real SQLite errors, raised by
    triggers): the customer's issuance fails, the technician's log names the serial, and the next
    start-up finds it in the CA's ledger and revokes it."""
    store.execute("CREATE TRIGGER refuse_record BEFORE INSERT ON certificates"
                  " BEGIN SELECT RAISE(ABORT, 'database disk image is malformed'); END")
    store.execute("CREATE TRIGGER refuse_revocation BEFORE UPDATE ON embedded_ca_issued"
                  " BEGIN SELECT RAISE(ABORT, 'database disk image is malformed'); END")
    with caplog.at_level(logging.INFO, logger="cert-kiosk"):
        with pytest.raises(sqlite3.DatabaseError, match="malformed"):   # the first failure, not the second
            service.prepare(applicant, PASSWORD)
        (serial,) = service.ca.unrevoked_serials()
        assert f"pki.revocation_failed serial={serial} reason=cessationOfOperation" in caplog.text
        assert service.certificates_for(applicant.customer_key) == []
        store.execute("DROP TRIGGER refuse_record")
        store.execute("DROP TRIGGER refuse_revocation")
        assert service.revoke_undelivered() == 1
    assert "pki.undelivered_revoked count=1 unrecorded=1" in caplog.text
    assert revoked_serials(service)[serial] == x509.ReasonFlags.cessation_of_operation
    assert service.ca.unrevoked_serials() == []
    assert service.revoke_undelivered() == 0

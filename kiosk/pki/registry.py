"""The registry of certificates the kiosk issued: what, to whom (a keyed hash), and what became of each.

Status moves issued → delivered → revoked, or issued → revoked (never delivered). The registry is the
kiosk's own record, whichever CA signed: it is how undelivered certificates get revoked after a crash.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from kiosk.pki.errors import AlreadyReplaced, InvalidTransition, UnknownCertificate
from kiosk.store import Store

ISSUED, DELIVERED, REVOKED = "issued", "delivered", "revoked"


@dataclass(frozen=True)
class CertificateRecord:
    serial: str
    customer_key: str
    common_name: str
    subject_dn: str
    issuer_name: str
    not_before: datetime
    not_after: datetime
    status: str
    revocation_reason: str | None
    delivered_to: str | None
    replaces: str | None


class Registry:
    def __init__(self, store: Store):
        self.store = store

    def add(self, record: CertificateRecord, issued_at: datetime) -> None:
        """Raises AlreadyReplaced when `record.replaces` is claimed by another live replacement (the
        database decides, migration 0006: two sessions cannot both replace one serial)."""
        try:
            self._insert(record, issued_at)
        except sqlite3.IntegrityError as exc:
            if record.replaces and "replacements" in str(exc):
                raise AlreadyReplaced(f"certificate {record.replaces} is already replaced") from exc
            raise

    def _insert(self, record: CertificateRecord, issued_at: datetime) -> None:
        self.store.execute(
            "INSERT INTO certificates(serial, customer_key, common_name, subject_dn, issuer_name, not_before,"
            " not_after, status, replaces, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.serial,
                record.customer_key,
                record.common_name,
                record.subject_dn,
                record.issuer_name,
                record.not_before.isoformat(),
                record.not_after.isoformat(),
                ISSUED,
                record.replaces,
                issued_at.isoformat(),
            ),
        )

    def get(self, serial: str) -> CertificateRecord:
        row = self.store.query_one("SELECT * FROM certificates WHERE serial = ?", (serial,))
        if row is None:
            raise UnknownCertificate(f"no certificate {serial} in the registry")
        return _record(row)

    def find(self, serial: str) -> CertificateRecord | None:
        row = self.store.query_one("SELECT * FROM certificates WHERE serial = ?", (serial,))
        return None if row is None else _record(row)

    def for_customer(self, customer_key: str) -> list[CertificateRecord]:
        rows = self.store.query_all(
            "SELECT * FROM certificates WHERE customer_key = ? ORDER BY not_before DESC, serial",
            (customer_key,),
        )
        return [_record(row) for row in rows]

    def replaceable_for(self, customer_key: str) -> list[CertificateRecord]:
        """The customer's certificates that may be replaced now: on a stick (delivered), and not
        already replaced or being replaced by another session."""
        rows = self.store.query_all(
            "SELECT * FROM certificates c WHERE customer_key = ? AND status = ? AND NOT EXISTS "
            "(SELECT 1 FROM replacements r WHERE r.replaced = c.serial) ORDER BY not_before DESC, serial",
            (customer_key, DELIVERED),
        )
        return [_record(row) for row in rows]

    def serials(self) -> set[str]:
        return {row["serial"] for row in self.store.query_all("SELECT serial FROM certificates")}

    def undelivered(self) -> list[CertificateRecord]:
        rows = self.store.query_all(
            "SELECT * FROM certificates WHERE status = ? ORDER BY issued_at", (ISSUED,)
        )
        return [_record(row) for row in rows]

    def mark_delivered(self, serial: str, drive_serial: str, when: datetime) -> bool:
        """True when this call delivered it; False when it already was, to the same drive."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT status, delivered_to FROM certificates WHERE serial = ?", (serial,)
            ).fetchone()
            if row is None:
                raise UnknownCertificate(f"no certificate {serial} in the registry")
            if row["status"] == DELIVERED and row["delivered_to"] == drive_serial:
                return False
            if row["status"] != ISSUED:
                raise InvalidTransition(
                    f"certificate {serial} is {row['status']}; it cannot be delivered now"
                )
            conn.execute(
                "UPDATE certificates SET status = ?, delivered_to = ?, delivered_at = ? WHERE serial = ?",
                (DELIVERED, drive_serial, when.isoformat(), serial),
            )
            return True

    def mark_revoked(self, serial: str, reason: str, when: datetime) -> None:
        self.store.execute(
            "UPDATE certificates SET status = ?, revocation_reason = ?, revoked_at = ?"
            " WHERE serial = ? AND status != ?",
            (REVOKED, reason, when.isoformat(), serial, REVOKED),
        )


def _record(row) -> CertificateRecord:
    return CertificateRecord(
        serial=row["serial"],
        customer_key=row["customer_key"],
        common_name=row["common_name"],
        subject_dn=row["subject_dn"],
        issuer_name=row["issuer_name"],
        not_before=datetime.fromisoformat(row["not_before"]),
        not_after=datetime.fromisoformat(row["not_after"]),
        status=row["status"],
        revocation_reason=row["revocation_reason"],
        delivered_to=row["delivered_to"],
        replaces=row["replaces"],
    )

"""The audit log: append-only (SQLite triggers refuse UPDATE and DELETE) and hash-chained, so that
anyone who edits the file directly (dropping the triggers first) breaks the chain and `verify` says
where. Rows name customers only by their keyed hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from kiosk.store import Store

GENESIS = "0" * 64


def row_hash(prev_hash: str, at: str, actor: str, action: str, subject: str | None, detail: str) -> str:
    canonical = json.dumps([prev_hash, at, actor, action, subject, detail], ensure_ascii=False,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    rows: int
    broken_at: int | None = None


class AuditLog:
    def __init__(self, store: Store):
        self.store = store

    def record(self, actor: str, action: str, subject: str | None = None, detail: str = "") -> None:
        at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        with self.store.transaction() as conn:
            last = conn.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
            prev = last[0] if last else GENESIS
            conn.execute(
                "INSERT INTO audit_log(at, actor, action, subject, detail, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (at, actor, action, subject, detail, prev, row_hash(prev, at, actor, action, subject, detail)),
            )

    def verify(self) -> ChainCheck:
        prev = GENESIS
        rows = self.store.query_all("SELECT * FROM audit_log ORDER BY id")
        for row in rows:
            expected = row_hash(prev, row["at"], row["actor"], row["action"], row["subject"], row["detail"])
            if row["prev_hash"] != prev or row["hash"] != expected:
                return ChainCheck(ok=False, rows=len(rows), broken_at=row["id"])
            prev = row["hash"]
        return ChainCheck(ok=True, rows=len(rows))

    def recent(self, limit: int = 20) -> list[dict]:
        rows = self.store.query_all("SELECT id, at, actor, action, subject, detail FROM audit_log "
                                    "ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(row) for row in rows]

    def count_today(self, action: str) -> int:
        today = datetime.now(timezone.utc).date().isoformat()
        return self.store.query_one("SELECT count(*) FROM audit_log WHERE action = ? AND at >= ?",
                                    (action, today))[0]

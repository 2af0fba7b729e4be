"""SQLite store: WAL mode, one connection per thread, schema migrations versioned by `user_version`.

Migrations are the files `kiosk/store/migrations/NNNN_name.sql`, applied in order, each in one transaction.
Every area adds its own file; a migration once landed is never edited.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class StoreError(Exception):
    """The database cannot be opened or written (locked, read-only, corrupt)."""


def migrations() -> list[tuple[int, Path]]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        found.append((int(path.name.split("_", 1)[0]), path))
    return found


class Store:
    def __init__(self, path: Path, busy_timeout_ms: int = 5000):
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()

    def connect(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                # used by its own thread only; check_same_thread=False lets close_all() end it at shutdown
                conn = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None,
                                       check_same_thread=False)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open {self.path}: {exc}") from exc
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            self._local.conn = conn
            with self._opened_lock:
                self._opened.append(conn)
        return conn

    def close(self) -> None:
        """Close this thread's connection; a short-lived thread (a metrics scrape) must, or each one
        leaves its connection and descriptors open until shutdown."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
            with self._opened_lock:
                if conn in self._opened:
                    self._opened.remove(conn)

    def close_all(self) -> None:
        """Close every thread's connection (at shutdown, when those threads are done)."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT: writers queue on the busy timeout instead of failing half-way."""
        conn = self.connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def execute(self, sql: str, params=()) -> sqlite3.Cursor:
        return self.connect().execute(sql, params)

    def query_one(self, sql: str, params=()) -> sqlite3.Row | None:
        return self.connect().execute(sql, params).fetchone()

    def query_all(self, sql: str, params=()) -> list[sqlite3.Row]:
        return self.connect().execute(sql, params).fetchall()

    @property
    def version(self) -> int:
        return self.connect().execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> list[int]:
        """Create or upgrade the schema; returns the versions applied (empty when already current)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self.connect()
        conn.execute("PRAGMA journal_mode = WAL")
        applied = []
        for number, path in migrations():
            if number <= self.version:
                continue
            script = path.read_text(encoding="utf-8")
            try:
                conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StoreError(f"migration {path.name} failed: {exc}") from exc
            applied.append(number)
        return applied

    def check_current(self) -> None:
        """An older schema needs `kiosk init`. A newer one is a rollback (an A/B update returned to the
        previous release, docs/operations.md): it is fine, because every migration is additive (new
        tables, columns with defaults, indexes, triggers, rows; tests/unit/test_store_migrations.py), so
        this release's queries read it as they read their own."""
        latest = migrations()[-1][0]
        if self.version < latest:
            raise StoreError(
                f"database {self.path} is at schema {self.version}, the code needs {latest}: run `kiosk init`"
            )

    @property
    def newer_than_code(self) -> bool:
        """Written by a later release than this one (after a rollback)."""
        return self.version > migrations()[-1][0]

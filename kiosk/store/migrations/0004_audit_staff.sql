-- Append-only audit log: each row carries the hash of the previous row, so an edited or deleted row
-- breaks the chain (`kiosk audit verify`). Customers appear only as a keyed hash.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,      -- 'customer', 'staff:<name>', 'system'
    action     TEXT NOT NULL,      -- stable event name
    subject    TEXT,               -- customer keyed hash, certificate serial, drive...
    detail     TEXT NOT NULL DEFAULT '',
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Staff who may use /staff; PINs hashed with Argon2.
CREATE TABLE staff (
    name        TEXT PRIMARY KEY,
    pin_hash    TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

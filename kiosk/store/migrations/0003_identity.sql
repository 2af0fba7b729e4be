-- Demo adapters of the identity ports (production uses the bank's HTTP services instead).
-- Customers are keyed by the keyed hash of their resident number; the number itself is never stored.
CREATE TABLE demo_customers (
    customer_key   TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    english_name   TEXT NOT NULL DEFAULT '',
    id_kind        TEXT NOT NULL,           -- resident_card | driver_license
    id_issue_date  TEXT NOT NULL,           -- YYYY-MM-DD
    email          TEXT NOT NULL,
    account_key    TEXT NOT NULL,           -- keyed hash of the account number
    pin_hash       TEXT NOT NULL            -- argon2
);

-- Consecutive failed account checks; 5 lock kiosk issuance until staff unlock (survives restarts).
CREATE TABLE lockouts (
    customer_key  TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL DEFAULT 0,
    locked_at     TEXT
);

-- Demo mode's e-mail: what would have been sent, for the staff console to show.
CREATE TABLE demo_outbox (
    id         INTEGER PRIMARY KEY,
    sent_at    TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL
);

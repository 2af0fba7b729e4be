-- kiosk/pki: the registry of certificates issued to customers, and the embedded CA's own ledger.

-- What the kiosk issued, to whom (a keyed hash, never the resident number) and what became of it.
CREATE TABLE certificates (
    serial            TEXT PRIMARY KEY,          -- hex, 40 digits, upper case
    customer_key      TEXT NOT NULL,             -- kiosk.pii.customer_key
    common_name       TEXT NOT NULL,
    subject_dn        TEXT NOT NULL,             -- the NPKI folder name
    issuer_name       TEXT NOT NULL,
    not_before        TEXT NOT NULL,             -- ISO 8601, UTC
    not_after         TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'delivered', 'revoked')),
    revocation_reason TEXT,
    revoked_at        TEXT,
    delivered_to      TEXT,                      -- the drive's serial
    delivered_at      TEXT,
    replaces          TEXT REFERENCES certificates(serial),
    issued_at         TEXT NOT NULL
);
CREATE INDEX certificates_by_customer ON certificates(customer_key);
CREATE INDEX certificates_by_status ON certificates(status);

-- The embedded CA's ledger: every serial and CN number it signed, and its revocations (the CRL's source).
-- A CMP adapter keeps none of this: the real CA has its own.
CREATE TABLE embedded_ca_issued (
    serial            TEXT PRIMARY KEY,
    cn_number         TEXT NOT NULL UNIQUE,
    not_after         TEXT NOT NULL,
    issued_at         TEXT NOT NULL,
    revoked_at        TEXT,
    revocation_reason TEXT
);

CREATE TABLE embedded_ca_crl (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    crl_number  INTEGER NOT NULL
);

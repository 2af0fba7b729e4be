-- Demo adapters for reading the ID card (issue 25): what a demo driver's licence carries beyond the
-- 주민등록증's fields, which demo card is reported lost, and a demo customer's withdrawal accounts.
ALTER TABLE demo_customers ADD COLUMN licence_number TEXT NOT NULL DEFAULT '';  -- NN-YY-NNNNNN-NN
ALTER TABLE demo_customers ADD COLUMN licence_serial TEXT NOT NULL DEFAULT '';  -- the printed serial
ALTER TABLE demo_customers ADD COLUMN id_reported_lost INTEGER NOT NULL DEFAULT 0;

-- The accounts the demo directory lists (the first is the one demo_customers.account_key names).
CREATE TABLE demo_accounts (
    customer_key  TEXT NOT NULL REFERENCES demo_customers(customer_key),
    position      INTEGER NOT NULL,
    account       TEXT NOT NULL,           -- digits: the directory lists it (masked on screen)
    pin_hash      TEXT NOT NULL,           -- argon2
    PRIMARY KEY (customer_key, account)
);

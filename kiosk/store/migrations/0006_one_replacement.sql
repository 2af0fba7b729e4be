-- One replacement per certificate, decided by the database (issue 20, item 6): a reissue claims the serial
-- it replaces when its row is written; a second live claim fails the INSERT (UNIQUE). The claim goes away
-- when the replacement is revoked before it was delivered (abandoned, crash sweep), so the customer can
-- try again; a delivered replacement keeps it, and the old certificate is revoked as superseded.
CREATE TABLE replacements (
    replaced  TEXT PRIMARY KEY REFERENCES certificates(serial),
    by_serial TEXT NOT NULL UNIQUE REFERENCES certificates(serial)
);

-- the live replacements already recorded (one per serial: the earliest, should there be two)
INSERT OR IGNORE INTO replacements(replaced, by_serial)
    SELECT replaces, serial FROM certificates
    WHERE replaces IS NOT NULL AND status != 'revoked' ORDER BY issued_at;

CREATE TRIGGER certificates_claim_replaced AFTER INSERT ON certificates
WHEN NEW.replaces IS NOT NULL
BEGIN
    INSERT INTO replacements(replaced, by_serial) VALUES (NEW.replaces, NEW.serial);
END;

CREATE TRIGGER certificates_release_replaced AFTER UPDATE OF status ON certificates
WHEN NEW.status = 'revoked' AND OLD.status = 'issued' AND NEW.replaces IS NOT NULL
BEGIN
    DELETE FROM replacements WHERE by_serial = NEW.serial;
END;

-- Settings the kiosk keeps between restarts (out-of-service flag, demo markers).
CREATE TABLE kiosk_state (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

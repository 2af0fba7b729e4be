-- Failed staff sign-ins, counted per subject and kept across restarts (issue 20, item 4).
-- subject: 'name:<staff name>' for a known staff member, 'source:<address>' for names that are not staff,
-- so that a stranger typing unknown names never locks a real staff member out.
-- Each lock doubles the one before (5 min, 10, 20, 40, then 60 at most); a sign-in clears the subject.
CREATE TABLE staff_sign_in_limits (
    subject       TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL DEFAULT 0,   -- since the last lock
    locks         INTEGER NOT NULL DEFAULT 0,   -- locks so far: the next one lasts twice as long
    locked_until  REAL NOT NULL DEFAULT 0       -- wall-clock seconds (kiosk.clock.Clock.wall)
);

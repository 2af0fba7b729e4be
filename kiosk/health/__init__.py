"""The kiosk's health, in one place, for the three that ask after it:

- `doctor`: one check per thing a technician can fix, for `kiosk doctor` and /healthz;
- `screen`: the touchscreen's browser and the page on it, which reports in (POST /healthz/screen) and
  is restarted by cert-kiosk-screen.timer when it falls silent;
- `watchdog`: systemd's watchdog, fed only while every probe (a callable) passes.

Each check answers with a `Check` (`check.py`). No Flask here: the web hands in what only it knows (the
app probe goes through the server's listener; kiosk/server.py builds it).
"""

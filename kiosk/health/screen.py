"""Is the touchscreen alive? The browser runs as its own unit (cert-kiosk-browser.service) and the page it
shows reports in every SCREEN_REPORT_SECONDS (templates/base.html → POST /healthz/screen, which calls
`record_screen`). A unit that is active while its screen has gone silent is a hung browser (cage wedged,
or Chromium never drew the page: seen on the appliance's first boot); systemd's Restart=always cannot see
it, so `kiosk doctor` fails it and cert-kiosk-screen.timer restarts it (`restart_silent_browser`).
"""

from __future__ import annotations

import os
import subprocess
import time

from kiosk import logs
from kiosk.health.check import TIMEOUT, Check, run_command
from kiosk.settings import Settings

BROWSER_UNIT = "cert-kiosk-browser.service"
SCREEN_FILE = "screen.seen"
SCREEN_REPORT_SECONDS = 15
# silent for longer than this while the unit has been active for more than SCREEN_STARTUP_SECONDS: wedged
SCREEN_SILENT_SECONDS = 60
SCREEN_STARTUP_SECONDS = 180


def record_screen(settings: Settings) -> None:
    """The page on the screen reported in (POST /healthz/screen): remember when, where the CLI can see it."""
    path = settings.data_dir / SCREEN_FILE
    path.touch()
    os.utime(path)


def screen_silence(settings: Settings) -> float | None:
    """Seconds since the screen last reported in; None if it never did."""
    try:
        return max(0.0, time.time() - (settings.data_dir / SCREEN_FILE).stat().st_mtime)
    except FileNotFoundError:
        return None


def browser_unit_uptime() -> float | None:
    """Seconds the browser unit has been active (systemd's monotonic clock), None when it is not active."""
    try:
        result = subprocess.run(["systemctl", "show", "--property=ActiveState,ActiveEnterTimestampMonotonic",
                                 BROWSER_UNIT], capture_output=True, text=True, timeout=TIMEOUT)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return None
    shown = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    since = shown.get("ActiveEnterTimestampMonotonic", "")
    if result.returncode != 0 or shown.get("ActiveState") != "active" or not since.isdigit():
        return None
    return max(0.0, time.monotonic() - int(since) / 1e6)


def check_screen(settings: Settings) -> Check:
    """The doctor's `browser` check: an inactive unit (in production), or an active one whose screen went
    silent past its start-up time, is a black or frozen screen for the customer."""
    uptime = browser_unit_uptime()
    # cage's lines and Chromium's both carry cage's identifier (Chromium writes to cage's stderr)
    fix = f"systemctl restart {BROWSER_UNIT}; journalctl -b -t cage"
    if uptime is None:
        if settings.is_demo:
            return Check("browser", True, f"{BROWSER_UNIT} not running (demo mode)")
        return Check("browser", False, f"{BROWSER_UNIT} is not active", fix)
    silence = screen_silence(settings)
    if silence is not None and silence <= SCREEN_SILENT_SECONDS:
        return Check("browser", True, f"{BROWSER_UNIT} active, the screen reported {silence:.0f} s ago")
    if uptime <= SCREEN_STARTUP_SECONDS:
        return Check("browser", True, f"{BROWSER_UNIT} starting ({uptime:.0f} s)")
    heard = "never" if silence is None else f"not for {silence:.0f} s"
    return Check("browser", False, f"{BROWSER_UNIT} active for {uptime:.0f} s but the screen has reported {heard}",
                 fix)


def restart_silent_browser(settings: Settings) -> Check:
    """What cert-kiosk-screen.timer runs as root: a browser unit that is active but whose screen went
    silent is restarted (Restart=always cannot see a hung browser). Returns the check it acted on."""
    check = check_screen(settings)
    if not check.ok and browser_unit_uptime() is not None:
        failed = run_command(["systemctl", "restart", "--no-block", BROWSER_UNIT])
        logs.warning("browser.restarted", reason=check.detail, **({"failed": failed} if failed else {}))
    return check

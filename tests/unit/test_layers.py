"""The layers the README draws: only `kiosk.web` imports Flask. The journey, identity, PKI, storage and
hardware parts load and run without it (a fresh interpreter per check, so nothing else imported it)."""

import subprocess
import sys

import pytest

NO_WEB = ["kiosk", "kiosk.journey.flow", "kiosk.identity.lockouts", "kiosk.pki.issuance", "kiosk.pki.cmp",
          "kiosk.pki.embedded", "kiosk.pki.keyfile", "kiosk.store", "kiosk.store.audit", "kiosk.wiring", "kiosk.metrics",
          "kiosk.watchdog", "hardware"]


@pytest.mark.parametrize("module", NO_WEB)
def test_importing_a_domain_module_loads_no_flask(module):
    probe = (f"import sys, {module}; "
             "web = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug', 'flask_wtf')); "
             "print(','.join(web))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"{module} pulls in {result.stdout.strip()}"


def test_hardware_knows_nothing_of_the_kiosk_package():
    probe = "import sys, hardware; print(','.join(sorted(m for m in sys.modules if m.startswith('kiosk'))))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""

"""The kiosk's verdict on an update bundle, and how it reads the end of RAUC's install (kiosk/updates)."""

from __future__ import annotations

import pytest

from kiosk.updates.offer import INSTALL_DONE, Inspection, InstallState, Verdict, install_outcome, judge

SIGNED = {"readable": True, "signature_ok": True, "compatible": "cert-kiosk-lab"}


@pytest.mark.parametrize(("inspection", "verdict"), [
    (Inspection(**SIGNED, version="0.2.0"), Verdict.INSTALLABLE),
    (Inspection(**SIGNED, version="0.1.0+next"), Verdict.INSTALLABLE),   # a local build after 0.1.0
    (Inspection(**SIGNED, version="0.1.0"), Verdict.NOT_NEWER),          # what runs
    (Inspection(**SIGNED, version="0.0.9"), Verdict.NOT_NEWER),          # never back by a stick
    (Inspection(**SIGNED, version="0.10.0"), Verdict.INSTALLABLE),       # by number, not by letters
    (Inspection(**SIGNED, version="tuesday"), Verdict.UNREADABLE),
    (Inspection(readable=True, signature_ok=True, compatible="other", version="9"), Verdict.OTHER_DEVICE),
    (Inspection(readable=True, signature_ok=False), Verdict.SIGNATURE_REFUSED),
    (Inspection(readable=False, signature_ok=False), Verdict.UNREADABLE),
])
def test_only_a_newer_bundle_signed_for_this_kiosk_is_installable(inspection, verdict):
    assert judge(inspection, "cert-kiosk-lab", "0.1.0") is verdict


def test_an_install_ended_well_only_when_rauc_says_it_is_done():
    assert install_outcome("installing", "Copying image to rootfs.1") is InstallState.INSTALLING
    assert install_outcome("idle", INSTALL_DONE) is InstallState.INSTALLED
    assert install_outcome("idle", "Installing failed.") is InstallState.FAILED
    assert install_outcome("idle", "") is InstallState.FAILED

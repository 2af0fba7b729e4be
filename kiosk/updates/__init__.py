"""Signed A/B system updates that branch staff install from a technician's USB stick (issue 29): which
bundles a stick holds and whether this kiosk may take each (`offer`), and RAUC, the updater that writes
them, behind a port (`rauc`)."""

from kiosk.updates.offer import (
    Bundle,
    Inspection,
    InstallProgress,
    SystemUpdates,
    Updater,
    UpdateRefused,
    UpdaterUnavailable,
    Verdict,
)

__all__ = ["Bundle", "InstallProgress", "Inspection", "SystemUpdates", "UpdateRefused", "Updater",
           "UpdaterUnavailable", "Verdict"]

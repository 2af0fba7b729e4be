"""USB drives for cert-kiosk: the live list, durable delivery of a bundle, and eject. Knows nothing of
Flask or of the `kiosk` package; logs through `logging.getLogger("cert-kiosk")`.

    manager = DriveManager.from_backend("udisks2", data_dir)
    manager.start()
    result = manager.deliver(drive_id, bundle.files, bundle.folder, keep_backup=False)
    manager.eject(drive_id)
"""

from hardware.drives import Drive
from hardware.errors import (
    DriveError,
    DriveFull,
    DriveRemoved,
    MountFailed,
    NeedsRepair,
    ReadOnlyDrive,
    UnsafePath,
    UnsupportedFilesystem,
    VerifyFailed,
    WriteFailed,
)
from hardware.manager import DeliveryResult, DriveManager

__all__ = [
    "DeliveryResult", "Drive", "DriveError", "DriveFull", "DriveManager", "DriveRemoved", "MountFailed", "NeedsRepair",
    "ReadOnlyDrive", "UnsafePath", "UnsupportedFilesystem", "VerifyFailed", "WriteFailed",
]

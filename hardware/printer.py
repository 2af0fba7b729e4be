"""The receipt printer: a thermal printer speaking ESC/POS (python-escpos), behind a device file given
directly (`file:/dev/usb/lp0`) or found by its USB ids among the kernel's usblp devices (`usb:VID:PID`),
or none at all. Knows nothing of Flask or of the `kiosk` package: what a slip says is the caller's, who
hands `print` a callable that draws it on the open `escpos.escpos.Escpos`. Chosen once from the printer
setting (`receipt_printer`); absent or failing, it raises `PrinterUnavailable`, for the caller to say
politely.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol

# the kernel's usblp driver names each USB printer here; `usb:VID:PID` is found through it (no libusb)
USB_PRINTERS = Path("/sys/class/usbmisc")
DEV_USB = Path("/dev/usb")

Slip = Callable[[object], None]  # draws one slip on an open `escpos.escpos.Escpos`


class PrinterUnavailable(Exception):
    """The printer is not configured, not plugged in, out of paper or refused the job."""


class PrinterSettingError(ValueError):
    """KIOSK_PRINTER is not `none`, `file:PATH` or `usb:VID:PID`."""


def parse_printer(setting: str) -> tuple[str, str]:
    """`none` → ("none", ""), `file:/dev/usb/lp0` → ("file", path), `usb:04b8:0202` → ("usb", "04b8:0202")."""
    kind, _, target = setting.partition(":")
    if kind == "none" and not target:
        return kind, ""
    if kind == "file" and target.startswith("/"):
        return kind, target
    if kind == "usb":
        vid, _, pid = target.lower().partition(":")
        if _hex4(vid) and _hex4(pid):
            return kind, f"{vid}:{pid}"
    raise PrinterSettingError("KIOSK_PRINTER must be 'none', 'file:/dev/usb/lp0' or 'usb:VID:PID' "
                              f"(four hex digits each), not {setting!r}")


def _hex4(text: str) -> bool:
    return len(text) == 4 and all(c in "0123456789abcdef" for c in text)


class ReceiptPrinter(Protocol):
    configured: bool

    def locate(self) -> str | None:
        """Where the printer is now (a device path), or None when it is absent."""

    def print(self, slip: Slip) -> None:
        """Print one slip or raise PrinterUnavailable."""


class NoPrinter:
    """KIOSK_PRINTER=none: receipts go by e-mail only."""

    configured = False
    description = "not configured"

    def locate(self) -> str | None:
        return None

    def print(self, slip: Slip) -> None:
        raise PrinterUnavailable("no printer configured")


class EscposPrinter:
    """A thermal printer behind a device file: given directly (`file:`) or found by its USB ids among the
    usblp devices (`usb:`). `connect` opens an Escpos backend on a path; tests pass one that returns a
    python-escpos Dummy."""

    configured = True

    def __init__(self, kind: str, target: str, connect: Callable[[str], object] | None = None,
                 sysfs: Path = USB_PRINTERS):
        self.kind, self.target, self.sysfs = kind, target, sysfs
        self.connect = connect or _file_printer
        self.description = f"{kind}:{target}"

    def locate(self) -> str | None:
        if self.kind == "file":
            return self.target if Path(self.target).exists() else None
        return _usblp_device(self.sysfs, self.target)

    def print(self, slip: Slip) -> None:
        from escpos.exceptions import Error as EscposError

        path = self.locate()
        if path is None:
            raise PrinterUnavailable(f"{self.description} is not plugged in")
        printer = None
        try:
            printer = self.connect(path)
            slip(printer)
        except (OSError, EscposError) as exc:
            raise PrinterUnavailable(f"{self.description}: {type(exc).__name__}") from exc
        finally:
            if printer is not None:
                printer.close()


def _file_printer(path: str):
    from escpos.printer import File

    return File(path)


def _usblp_device(sysfs: Path, ids: str) -> str | None:
    """The /dev/usb/lpN whose USB interface belongs to the device `vid:pid`, or None."""
    for node in sorted(sysfs.glob("lp*")) if sysfs.is_dir() else ():
        device = (node / "device").resolve().parent   # interface → its USB device (idVendor, idProduct)
        try:
            found = f"{(device / 'idVendor').read_text().strip()}:{(device / 'idProduct').read_text().strip()}"
        except OSError:
            continue
        if found.lower() == ids:
            return str(DEV_USB / node.name)
    return None


def receipt_printer(setting: str) -> ReceiptPrinter:
    """The adapter the printer setting names (chosen once, at start-up)."""
    kind, target = parse_printer(setting)
    return NoPrinter() if kind == "none" else EscposPrinter(kind, target)

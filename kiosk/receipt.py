"""The receipt a customer keeps after an issuance: which certificate is on their stick, until when, when
to renew it, and what to do if the stick is lost; and after 인증서 폐지, which certificate was revoked and
the CRL that lists it (`RevocationReceipt`).

`Receipt.of` builds it once from the delivered certificate's public fields (name, issuer, serial,
validity); nothing secret is ever handed to it, so no renderer can leak the resident number, the password
or the e-mail code. Two renderers: `email_body` (the customer's language, sent through the mail port the
e-mail code uses) and `print_escpos` (a thermal printer, through python-escpos). `ReceiptDesk` hands each
out at most once per visit and channel, so a double tap sends one e-mail and prints one slip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Callable, Protocol

from kiosk import logs
from kiosk.identity import CodeSender, IdentityServiceUnavailable
from kiosk.pki.profile import RENEWAL_WINDOW

# the kernel's usblp driver names each USB printer here; `usb:VID:PID` is found through it (no libusb)
USB_PRINTERS = Path("/sys/class/usbmisc")
DEV_USB = Path("/dev/usb")


class Channel(str, Enum):
    EMAIL = "email"
    PAPER = "paper"


class Delivery(str, Enum):
    SENT = "sent"
    ALREADY = "already"          # this channel served this certificate before: nothing sent again
    FAILED = "failed"            # the mail server or the printer did not take it: the customer may retry
    NO_PRINTER = "no_printer"    # this kiosk has no printer configured


@dataclass(frozen=True)
class Receipt:
    common_name: str
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    help_url: str
    renewal_window: timedelta = RENEWAL_WINDOW

    @classmethod
    def of(cls, prepared, help_url: str, renewal_window: timedelta = RENEWAL_WINDOW) -> "Receipt":
        """From a `kiosk.pki.issuance.PreparedCertificate`: its public fields, and nothing else."""
        return cls(prepared.common_name, prepared.issuer_name, prepared.serial, prepared.not_before,
                   prepared.not_after, help_url, renewal_window)

    @property
    def renew_from(self) -> date:
        """The first day it can be renewed: the issuance's renewal window before it expires."""
        return renewal_date(self.not_after, self.renewal_window)

    @property
    def valid_until(self) -> date:
        return self.not_after.date()


def renewal_date(not_after: datetime, renewal_window: timedelta = RENEWAL_WINDOW) -> date:
    return (not_after - renewal_window).date()


@dataclass(frozen=True)
class RevocationReceipt:
    """The proof a customer keeps after 인증서 폐지: which certificate was revoked and the CRL that lists it
    (`crl_number` None: the CA took the revocation but its CRL was not read back yet). Public fields only."""

    common_name: str
    issuer: str
    serial: str
    revoked_on: date
    crl_number: int | None
    help_url: str

    @classmethod
    def of(cls, revocation, help_url: str, today: date) -> "RevocationReceipt":
        """From a `kiosk.journey.flow.Revocation`."""
        listed = revocation.on_crl and revocation.crl_time is not None
        return cls(revocation.common_name, revocation.issuer_name, revocation.serial,
                   revocation.crl_time.date() if listed else today,
                   revocation.crl_number if listed else None, help_url)


# --- e-mail -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReceiptText:
    """The receipt's words in the customer's language: the web layer translates them (no Flask here)."""

    subject: str
    title: str
    name: str
    issuer: str
    serial: str
    validity: str
    renew: str
    use: str
    lost: str
    help: str


def email_body(receipt: Receipt | RevocationReceipt, text: ReceiptText) -> str:
    """Plain text, dates in ISO form (read the same in Korean and English). For a revocation `text.validity`
    labels the day it was revoked and `text.renew` the CRL that lists it."""
    if isinstance(receipt, RevocationReceipt):
        listed = f"#{receipt.crl_number}" if receipt.crl_number is not None else "-"
        return "\n".join([
            text.title, "",
            f"{text.name}: {receipt.common_name}",
            f"{text.issuer}: {receipt.issuer}",
            f"{text.serial}: {receipt.serial}",
            f"{text.validity}: {receipt.revoked_on.isoformat()}",
            f"{text.renew}: {listed}",
            "", text.use, "", text.lost, "", f"{text.help}: {receipt.help_url}", "",
        ])
    return "\n".join([
        text.title, "",
        f"{text.name}: {receipt.common_name}",
        f"{text.issuer}: {receipt.issuer}",
        f"{text.serial}: {receipt.serial}",
        f"{text.validity}: {receipt.not_before.date().isoformat()} ~ {receipt.valid_until.isoformat()}",
        f"{text.renew}: {receipt.renew_from.isoformat()} ~ {receipt.valid_until.isoformat()}",
        "", text.use, "", text.lost, "", f"{text.help}: {receipt.help_url}", "",
    ])


# --- paper --------------------------------------------------------------------------------------------

# python-escpos 3.1 knows no Korean code page (its capabilities list ends at CP932 for East Asia, and
# Korean printers' double-byte KS X 1001 mode is model-specific), so the slip is ASCII: English labels,
# the name's Latin part from the certificate's CN, and a QR code to the help page, which is in Korean.
PAPER_TITLE = "KOREA POST - BANKING CERTIFICATE"
PAPER_LOST = ("If you lose the USB stick: call Korea Post (1588-1900) or visit a post office to revoke "
              "the certificate, then get a new one.")
PAPER_USE = "At home: Korea Post internet banking > certificate login > removable disk > this certificate."


def ascii_name(common_name: str) -> str:
    """`홍길동(HONG GILDONG)0011…` → `HONG GILDONG 0011…`: what a printer without Hangul can print."""
    latin = "".join(ch if ch.isascii() and ch.isprintable() else " " for ch in common_name)
    return " ".join(latin.replace("(", " ").replace(")", " ").split())


PAPER_REVOKED_TITLE = "KOREA POST - CERTIFICATE REVOKED"
PAPER_REVOKED_USE = "This certificate can no longer be used anywhere. A new one: 'new certificate' at a kiosk."
PAPER_REVOKED_LOST = "If you did not revoke it yourself: call Korea Post (1588-1900) at once."


def paper_lines(receipt: Receipt | RevocationReceipt) -> list[str]:
    if isinstance(receipt, RevocationReceipt):
        listed = f"CRL no. {receipt.crl_number}" if receipt.crl_number is not None else "CRL: pending"
        return [
            f"Certificate: {ascii_name(receipt.common_name)}",
            f"Issuer: {ascii_name(receipt.issuer)}",
            f"Serial: {receipt.serial}",
            f"Revoked: {receipt.revoked_on.isoformat()} ({listed})",
        ]
    return [
        f"Certificate: {ascii_name(receipt.common_name)}",
        f"Issuer: {ascii_name(receipt.issuer)}",
        f"Serial: {receipt.serial}",
        f"Valid: {receipt.not_before.date().isoformat()} - {receipt.valid_until.isoformat()}",
        f"Renew from: {receipt.renew_from.isoformat()}",
    ]


def print_escpos(printer, receipt: Receipt | RevocationReceipt) -> None:
    """The slip on an `escpos.escpos.Escpos` (any backend: File, Dummy in tests). The QR code is the
    printer's own (GS ( k), so that no image has to be rendered and sent."""
    revoked = isinstance(receipt, RevocationReceipt)
    printer.set(align="center", bold=True, double_height=True)
    printer.textln(PAPER_REVOKED_TITLE if revoked else PAPER_TITLE)
    printer.set(align="left", bold=False, normal_textsize=True)
    printer.textln("")
    for line in paper_lines(receipt):
        printer.textln(line)
    printer.textln("")
    printer.textln(PAPER_REVOKED_USE if revoked else PAPER_USE)
    printer.textln(PAPER_REVOKED_LOST if revoked else PAPER_LOST)
    printer.set(align="center")
    printer.qr(receipt.help_url, native=True, size=6)
    printer.textln(receipt.help_url)
    printer.cut()


# --- the printer port and its adapters ---------------------------------------------------------------

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

    def print(self, receipt: Receipt | RevocationReceipt) -> None:
        """Print one slip or raise PrinterUnavailable."""


class NoPrinter:
    """KIOSK_PRINTER=none: receipts go by e-mail only."""

    configured = False
    description = "not configured"

    def locate(self) -> str | None:
        return None

    def print(self, receipt: Receipt | RevocationReceipt) -> None:
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

    def print(self, receipt: Receipt | RevocationReceipt) -> None:
        from escpos.exceptions import Error as EscposError

        path = self.locate()
        if path is None:
            raise PrinterUnavailable(f"{self.description} is not plugged in")
        printer = None
        try:
            printer = self.connect(path)
            print_escpos(printer, receipt)
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
    """The adapter KIOSK_PRINTER names (kiosk.wiring calls this once)."""
    kind, target = parse_printer(setting)
    return NoPrinter() if kind == "none" else EscposPrinter(kind, target)


# --- handing receipts out, once -----------------------------------------------------------------------

class ReceiptDesk:
    """Sends the receipt of a visit's delivered certificate by e-mail and prints it, each at most once per
    visit: the channels served are kept on the `Visit` (not per serial: a copy or a password change
    delivers a serial that an earlier visit may have had a receipt for)."""

    def __init__(self, mail: CodeSender, printer: ReceiptPrinter, help_url: str,
                 renewal_window: timedelta = RENEWAL_WINDOW):
        self.mail, self.printer, self.help_url = mail, printer, help_url
        self.renewal_window = renewal_window

    @property
    def can_print(self) -> bool:
        return self.printer.configured

    def receipt(self, prepared) -> Receipt:
        return Receipt.of(prepared, self.help_url, self.renewal_window)

    def receipt_of(self, visit) -> Receipt | RevocationReceipt:
        """What this visit did: a certificate delivered, or one revoked (인증서 폐지)."""
        if visit.revoked is not None:
            return RevocationReceipt.of(visit.revoked, self.help_url, date.today())
        return self.receipt(visit.prepared)

    def served(self, visit, channel: Channel | str) -> bool:
        return Channel(channel) in visit.receipts

    def email(self, visit, text: ReceiptText) -> Delivery:
        """To the customer's address from the directory; `visit` has a delivered or a revoked certificate
        (the view checks)."""
        receipt = self.receipt_of(visit)
        recipient = visit.customer.email
        try:
            delivery = self._once(visit, Channel.EMAIL,
                                  lambda: self.mail.send(recipient, text.subject, email_body(receipt, text)))
        except IdentityServiceUnavailable as exc:
            logs.warning("receipt.email_failed", serial=receipt.serial, reason=str(exc))
            return Delivery.FAILED
        if delivery is Delivery.SENT:
            logs.event("receipt.emailed", serial=receipt.serial)
        return delivery

    def print(self, visit) -> Delivery:
        if not self.printer.configured:
            return Delivery.NO_PRINTER
        receipt = self.receipt_of(visit)
        try:
            delivery = self._once(visit, Channel.PAPER, lambda: self.printer.print(receipt))
        except PrinterUnavailable as exc:
            # optional hardware: the customer is told politely, the technician reads this line
            logs.warning("receipt.print_failed", serial=receipt.serial, reason=str(exc))
            return Delivery.FAILED
        if delivery is Delivery.SENT:
            logs.event("receipt.printed", serial=receipt.serial)
        return delivery

    @staticmethod
    def _once(visit, channel: Channel, deliver: Callable[[], None]) -> Delivery:
        """Claim the channel on the visit before delivering, so a second tap arriving meanwhile finds it
        taken; give the claim back when delivery failed (and re-raise), so the customer can try again.
        The visit's lock is not held while the mail server or printer is slow."""
        with visit.lock:
            if channel in visit.receipts:
                logs.event("receipt.repeat_ignored", channel=channel.value)
                return Delivery.ALREADY
            visit.receipts.add(channel)
        try:
            deliver()
        except (IdentityServiceUnavailable, PrinterUnavailable):
            with visit.lock:
                visit.receipts.discard(channel)
            raise
        return Delivery.SENT

"""Handing the receipt out: by e-mail (the mail port the e-mail code uses) and on paper (the optional
printer, hardware.printer), each at most once per visit and channel, so that a double tap sends one
e-mail and prints one slip. What the receipt says is kiosk.journey.receipt's.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import Enum
from functools import partial
from typing import Callable

from hardware.printer import PrinterUnavailable, ReceiptPrinter
from kiosk import logs
from kiosk.identity import CodeSender, IdentityServiceUnavailable
from kiosk.journey.receipt import Receipt, ReceiptText, RevocationReceipt, email_body, print_escpos


class Channel(str, Enum):
    EMAIL = "email"
    PAPER = "paper"


class Delivery(str, Enum):
    SENT = "sent"
    ALREADY = "already"          # this channel served this certificate before: nothing sent again
    FAILED = "failed"            # the mail server or the printer did not take it: the customer may retry
    NO_PRINTER = "no_printer"    # this kiosk has no printer configured


class ReceiptDesk:
    """Sends the receipt of a visit's delivered certificate by e-mail and prints it, each at most once per
    visit: the channels served are kept on the `Visit` (not per serial: a copy or a password change
    delivers a serial that an earlier visit may have had a receipt for)."""

    def __init__(self, mail: CodeSender, printer: ReceiptPrinter, help_url: str,
                 renewal_window: timedelta):
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
            delivery = self._once(visit, Channel.PAPER,
                                  lambda: self.printer.print(partial(print_escpos, receipt=receipt)))
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

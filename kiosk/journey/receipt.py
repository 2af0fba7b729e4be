"""What the receipt a customer keeps says: after an issuance, which certificate is on their stick, until
when, when to renew it, and what to do if the stick is lost; after 인증서 폐지, which certificate was revoked
and the CRL that lists it (`RevocationReceipt`).

`Receipt.of` builds it once from the delivered certificate's public fields (name, issuer, serial,
validity); nothing secret is ever handed to it, so no renderer can leak the resident number, the password
or the e-mail code. Two renderers: `email_body` (the customer's language) and `print_escpos` (the slip,
drawn on a python-escpos printer that hardware.printer opens). Handing them out once per visit is
kiosk.journey.receipt_desk's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class Receipt:
    common_name: str
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    help_url: str
    renewal_window: timedelta   # the issuance's (KIOSK_RENEWAL_WINDOW_DAYS), never a default

    @classmethod
    def of(cls, prepared, help_url: str, renewal_window: timedelta) -> "Receipt":
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


def renewal_date(not_after: datetime, renewal_window: timedelta) -> date:
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

"""The receipt (kiosk/journey/receipt.py) and its printer (hardware/printer.py) without the web: the printer setting, the slip on python-escpos's Dummy backend
decoded, the USB printer found through sysfs, and `kiosk doctor`'s printer line."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import partial

import pytest
from escpos.printer import Dummy

from hardware.printer import EscposPrinter, PrinterSettingError, PrinterUnavailable, parse_printer
from kiosk.health import doctor
from kiosk.journey.receipt import Receipt, ascii_name, print_escpos
from kiosk.settings import ConfigurationError, Settings
from kiosk.wiring import build

RECEIPT = Receipt("홍길동(HONG GILDONG)0011041202612030042", "yessignCA-Test Class 2", "1A2B3C",
                  datetime(2026, 12, 3, tzinfo=timezone.utc), datetime(2027, 12, 3, tzinfo=timezone.utc),
                  "https://www.epostbank.go.kr/", timedelta(days=30))


@pytest.mark.parametrize(("setting", "parsed"), [
    ("none", ("none", "")), ("file:/dev/usb/lp0", ("file", "/dev/usb/lp0")),
    ("usb:04B8:0202", ("usb", "04b8:0202")),
])
def test_printer_settings(setting, parsed):
    assert parse_printer(setting) == parsed


@pytest.mark.parametrize("setting", ["", "lp0", "file:lp0", "usb:4b8:202", "usb:04b8", "none:x", "usb:zzzz:0202"])
def test_a_wrong_printer_setting_is_refused_at_start(setting):
    with pytest.raises(PrinterSettingError):
        parse_printer(setting)
    with pytest.raises(ConfigurationError, match="KIOSK_PRINTER"):
        Settings(printer=setting).validate()


def test_a_wrong_usb_port_position_is_refused_at_start():
    with pytest.raises(ConfigurationError, match="KIOSK_USB_PORT_POSITION"):
        Settings(usb_port_position="top").validate()


def test_the_name_a_printer_without_hangul_can_print():
    assert ascii_name(RECEIPT.common_name) == "HONG GILDONG 0011041202612030042"
    assert ascii_name("김영희()0011041202612030042") == "0011041202612030042"


def test_the_slip_on_the_dummy_backend():
    printer = Dummy()
    print_escpos(printer, RECEIPT)
    data = printer.output
    text = data.decode("ascii")                                  # ASCII only: no code page needed
    for line in ("Certificate: HONG GILDONG 0011041202612030042", "Issuer: yessignCA-Test Class 2",
                 "Serial: 1A2B3C", "Valid: 2026-12-03 - 2027-12-03", "Renew from: 2027-11-03"):
        assert line + "\n" in text
    assert "lose the USB stick" in text
    url = RECEIPT.help_url.encode()
    assert b"\x1d(k" + bytes([len(url) + 3, 0]) + b"1P0" + url in data     # QR: store the URL
    assert b"\x1d(k\x03\x001Q0" in data                                    # QR: print it
    assert b"\x1dV" in data                                                # then cut


def test_a_usb_printer_is_found_by_its_ids_through_usblp(tmp_path):
    """/sys/class/usbmisc/lp0/device → the interface, whose parent is the USB device with the ids."""
    device = tmp_path / "devices" / "1-1"
    interface = device / "1-1:1.0"
    interface.mkdir(parents=True)
    (device / "idVendor").write_text("04b8\n")
    (device / "idProduct").write_text("0202\n")
    (tmp_path / "usbmisc").mkdir()
    (tmp_path / "usbmisc" / "lp0").mkdir()
    (tmp_path / "usbmisc" / "lp0" / "device").symlink_to(interface)
    assert EscposPrinter("usb", "04b8:0202", sysfs=tmp_path / "usbmisc").locate() == "/dev/usb/lp0"
    assert EscposPrinter("usb", "0dd4:0205", sysfs=tmp_path / "usbmisc").locate() is None


def test_printing_to_an_absent_or_failing_device_raises_printer_unavailable(tmp_path):
    with pytest.raises(PrinterUnavailable, match="not plugged in"):
        EscposPrinter("file", str(tmp_path / "lp9")).print(partial(print_escpos, receipt=RECEIPT))
    (tmp_path / "lp0").mkdir()                                     # exists, but cannot be opened for writing
    with pytest.raises(PrinterUnavailable, match="DeviceNotFoundError|IsADirectoryError"):
        EscposPrinter("file", str(tmp_path / "lp0")).print(partial(print_escpos, receipt=RECEIPT))


def test_doctor_reports_the_printer_and_its_absence_is_no_failure(tmp_path):
    assert doctor.check_printer(build(Settings(data_dir=tmp_path))).detail.startswith("not configured")
    absent = doctor.check_printer(build(Settings(data_dir=tmp_path, printer=f"file:{tmp_path}/lp0")))
    assert absent.ok and absent.detail.startswith("absent")
    (tmp_path / "lp0").write_bytes(b"")
    present = doctor.check_printer(build(Settings(data_dir=tmp_path, printer=f"file:{tmp_path}/lp0")))
    assert present.ok and present.detail.startswith("present")

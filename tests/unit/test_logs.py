import logging

from kiosk import logs


def capture(caplog, name, **fields):
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger=logs.LOGGER_NAME):
        logs.event(name, **fields)
    return logs.JournaldFormatter().format(caplog.records[-1])


def test_a_line_starts_with_its_journald_priority_and_event_name(caplog):
    assert capture(caplog, "drive.added", device="/dev/sda1") == "<6>drive.added device=/dev/sda1"


def test_warnings_carry_priority_4(caplog):
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger=logs.LOGGER_NAME):
        logs.warning("drive.write_failed", reason="DriveFull")
    assert logs.JournaldFormatter().format(caplog.records[-1]).startswith("<4>drive.write_failed ")


def test_personal_fields_are_masked_and_secrets_dropped(caplog):
    line = capture(caplog, "identity.checked", rrn="9001011234567", email="hong@example.com",
                   account="123456789012", password="Secret!234x", pin="1234")
    assert "9001011234567" not in line and "rrn=900101-1******" in line
    assert "email=h***@example.com" in line
    assert "account=1234-****-9012" in line
    assert "Secret" not in line and "1234\"" not in line and "pin=[redacted]" in line


def test_values_with_spaces_are_quoted_and_newlines_cannot_forge_a_line(caplog):
    line = capture(caplog, "http.error", reason='bad "x"\n<0>fake.event')
    assert "\n" not in line
    assert line == '<6>http.error reason="bad \\"x\\" <0>fake.event"'

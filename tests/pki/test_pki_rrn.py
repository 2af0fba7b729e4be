"""Resident registration numbers: date and gender digit are hard rules, the checksum only a hint."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.pki.rrn import InvalidResidentNumber, checksum_ok, parse_rrn


def with_check_digit(first12: str) -> str:
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    total = sum(int(d) * w for d, w in zip(first12, weights, strict=True))
    return first12 + str((11 - total % 11) % 10)


def test_a_valid_number_with_a_hyphen():
    result = parse_rrn("900101-1234568")
    assert result.digits == "9001011234568"
    assert result.birth_date == date(1990, 1, 1)
    assert result.checksum_ok
    assert not result.foreign_resident


def test_a_failing_checksum_is_only_a_hint():
    result = parse_rrn("9001011234567")
    assert not result.checksum_ok
    assert result.birth_date == date(1990, 1, 1)


@pytest.mark.parametrize(
    ("gender", "year", "foreign"),
    [
        ("1", 1990, False),
        ("2", 1990, False),
        ("3", 2090, False),
        ("4", 2090, False),
        ("5", 1990, True),
        ("6", 1990, True),
        ("7", 2090, True),
        ("8", 2090, True),
        ("9", 1890, False),
        ("0", 1890, False),
    ],
)
def test_the_gender_digit_picks_the_century(gender, year, foreign):
    result = parse_rrn(f"900101{gender}234567", today=date(2100, 1, 1))
    assert result.birth_date == date(year, 1, 1)
    assert result.foreign_resident is foreign


@pytest.mark.parametrize("text", ["900230-1234567", "901301-1234567", "900100-1234567", "010229-3234567"])
def test_an_impossible_date_is_refused(text):
    with pytest.raises(InvalidResidentNumber) as error:
        parse_rrn(text)
    assert error.value.reason == "date"


def test_a_birth_date_in_the_future_is_refused():
    with pytest.raises(InvalidResidentNumber, match="date"):
        parse_rrn("300101-3234567", today=date(2026, 1, 1))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "900101",
        "900101-123456",
        "900101-12345678",
        "9001O1-1234567",
        "900101--1234567",
        "900101_1234567",
        "９００１０１１２３４５６７",
    ],
)
def test_a_malformed_number_is_refused(text):
    with pytest.raises(InvalidResidentNumber) as error:
        parse_rrn(text)
    assert error.value.reason == "format"


def test_the_number_never_shows_in_repr():
    assert "1234568" not in repr(parse_rrn("900101-1234568"))


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
    st.booleans(),
    st.text(alphabet="0123456789", min_size=5, max_size=5),
)
def test_any_real_birth_date_round_trips(born, female, middle):
    gender = {(19, False): "1", (19, True): "2", (20, False): "3", (20, True): "4"}[
        (born.year // 100, female)
    ]
    number = with_check_digit(f"{born:%y%m%d}{gender}{middle}")
    result = parse_rrn(number, today=date(2026, 1, 1))
    assert result.birth_date == born
    assert result.checksum_ok
    assert checksum_ok(number)

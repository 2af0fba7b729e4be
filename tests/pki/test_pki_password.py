"""The certificate password rules, at their boundaries."""

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.pki.password import MIN_LENGTH, RULES, unmet_rules


@pytest.mark.parametrize(
    ("password", "unmet"),
    [
        ("Kiosk!2580x", []),
        ("Kiosk!258x", []),  # exactly 10
        ("Kios!258x", ["length"]),  # 9
        ("", ["length", "letter", "digit", "special"]),
        ("2580!2580!", ["letter"]),
        ("Kiosk!Kiosk", ["digit"]),
        ("Kiosk25807x", ["special"]),
        ("Kiosk'2580x", ["special", "forbidden_char"]),
        ("Kiosk!2580x'", ["forbidden_char"]),
        ('Kiosk!2580x"', ["forbidden_char"]),
        ("Kiosk!2580x\\", ["forbidden_char"]),
        ("Kiosk!2580x|", ["forbidden_char"]),
        ("Kiosk! 2580x", ["forbidden_char"]),  # space
        ("키오스크!2580xy", ["forbidden_char"]),  # Hangul
        ("Kiosk!2580xxx", ["repeat"]),
        ("Kiosk!!!258x", ["repeat"]),
        ("Kiosk!2580xx", []),  # two in a row is fine
        ("Kiosk!1230x", ["sequence"]),
        ("Kiosk!3210x", ["sequence"]),
        ("Kabc!2580x", ["sequence"]),
        ("KCBA!2580x", ["sequence"]),
        ("KaBc!2580x", ["sequence"]),  # case does not hide a sequence
        ("Kiosk!2579x", []),  # steps of two are fine
        ("aaa", ["length", "digit", "special", "repeat"]),
    ],
)
def test_rules(password, unmet):
    assert unmet_rules(password) == unmet


@given(st.text(max_size=MIN_LENGTH - 1))
def test_anything_shorter_than_ten_breaks_length(password):
    assert "length" in unmet_rules(password)


@given(st.text(max_size=40))
def test_codes_come_from_the_rule_list_in_order(password):
    unmet = unmet_rules(password)
    assert unmet == [rule for rule in RULES if rule in unmet]


@given(st.text(max_size=30), st.sampled_from("'\"\\| \t한"), st.text(max_size=30))
def test_a_refused_character_anywhere_is_forbidden(before, refused, after):
    assert "forbidden_char" in unmet_rules(before + refused + after)


@given(st.text(alphabet=string.ascii_letters + string.digits + "!#$%&()*+,-./:;<=>?@[]^_`{}~", max_size=30))
def test_a_password_meeting_every_rule_is_accepted(password):
    # build one that passes: the generated text, made safe, plus a known-good suffix
    unmet = unmet_rules(password + "Kx!7")
    assert "forbidden_char" not in unmet
    assert "letter" not in unmet and "digit" not in unmet and "special" not in unmet

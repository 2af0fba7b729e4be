"""What a step tells the customer lives in one template (templates/customer/_outcomes.html): every
outcome a view can pass has its own words, in Korean and in English (the catalog keeps them)."""

import re

import pytest
from flask import get_template_attribute
from flask_babel import force_locale

from kiosk.journey.email_code import CodeResult

HANGUL = re.compile(r"[\uac00-\ud7a3]")
NUMBERS = {"account_outcome": {"left": 3, "limit": 5}, "code_outcome": {"left": 3, "limit": 5, "seconds": 17},
           "source_outcome": {"left": 3, "limit": 5}, "identity_outcome": {"limit": 5}}

OUTCOMES = {
    "account_outcome": ["wrong", "locked", "unavailable"],
    "code_outcome": [result.value for result in CodeResult if result is not CodeResult.OK]
    + ["not_sent", "wait", "limit", "resent", "resend_failed"],  # sending, and ResendRefused's reasons
    "source_outcome": ["wrong", "locked", "damaged", "weak", "not_usable"],
    "identity_outcome": ["not_found", "locked", "unavailable", "id_mismatch", "id_lost", "id_check_unavailable"],
}


def words(app, lang: str, macro: str, code: str) -> str:
    with app.test_request_context(), force_locale(lang):
        return str(get_template_attribute("customer/_outcomes.html", macro)(code, **NUMBERS[macro]))


@pytest.mark.parametrize("macro", OUTCOMES)
def test_every_outcome_has_its_own_words_in_korean_and_in_english(app, macro):
    korean = [words(app, "ko", macro, code) for code in OUTCOMES[macro]]
    english = [words(app, "en", macro, code) for code in OUTCOMES[macro]]
    assert all(HANGUL.search(text) for text in korean), korean
    assert not any(HANGUL.search(text) for text in english), english  # each one found in the catalog
    assert len(set(korean)) == len(korean) and len(set(english)) == len(english)


def test_the_numbers_are_said_in_the_words(app):
    assert "남은 횟수: 3회" in words(app, "ko", "code_outcome", "wrong")
    assert "17초 후에" in words(app, "ko", "code_outcome", "wait")
    assert "5번 틀렸습니다" in words(app, "ko", "code_outcome", "too_many_tries")
    assert "3" in words(app, "en", "source_outcome", "wrong")

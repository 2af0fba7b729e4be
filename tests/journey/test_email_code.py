import pytest

from kiosk.clock import ManualClock
from kiosk.journey.email_code import CodeResult, EmailChallenge, ResendRefused


@pytest.fixture
def clock():
    return ManualClock()


def test_the_code_is_six_digits(clock):
    for _ in range(50):
        code = EmailChallenge(clock).code
        assert len(code) == 6 and code.isdigit()


def test_the_right_code_within_three_minutes_passes(clock):
    challenge = EmailChallenge(clock)
    clock.advance(179)
    assert challenge.check(challenge.code) is CodeResult.OK


def test_the_code_expires_after_three_minutes(clock):
    challenge = EmailChallenge(clock)
    clock.advance(180)
    assert challenge.check(challenge.code) is CodeResult.EXPIRED


def test_five_wrong_tries_use_up_the_code(clock):
    challenge = EmailChallenge(clock)
    wrong = "000000" if challenge.code != "000000" else "111111"
    results = [challenge.check(wrong) for _ in range(5)]
    assert results == [CodeResult.WRONG] * 4 + [CodeResult.TOO_MANY_TRIES]
    assert challenge.check(challenge.code) is CodeResult.TOO_MANY_TRIES


def test_resend_waits_thirty_seconds(clock):
    challenge = EmailChallenge(clock)
    clock.advance(10)
    with pytest.raises(ResendRefused) as refused:
        challenge.resend()
    assert refused.value.reason == "wait" and refused.value.wait_seconds == 20


def test_a_resent_code_replaces_the_old_one_with_fresh_tries(clock):
    challenge = EmailChallenge(clock)
    old = challenge.code
    challenge.check("999999" if old != "999999" else "888888")
    clock.advance(30)
    new = challenge.resend()
    assert challenge.tries == 0
    if new != old:
        assert challenge.check(old) is CodeResult.WRONG
    assert challenge.check(new) is CodeResult.OK


def test_at_most_three_resends(clock):
    challenge = EmailChallenge(clock)
    for _ in range(3):
        clock.advance(30)
        challenge.resend()
    clock.advance(30)
    with pytest.raises(ResendRefused) as refused:
        challenge.resend()
    assert refused.value.reason == "limit"

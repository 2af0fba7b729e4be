"""The kiosk's voice (kiosk/speech.py, POST /speech): real espeak-ng, its WAV measured. Speech, not silence,
in Korean and in English; the rate and the volume the page sends reach the engine (a faster rate is a
shorter WAV, a lower volume a quieter one); bad input is a polite 400. The booted appliance plays it through
a sound card and records it (tests/system/)."""

from __future__ import annotations

import array
import io
import math
import wave

import pytest

from kiosk import speech
from tests.tools import require_command

KOREAN = "본인 확인. 신분증에 적힌 그대로 입력해 주세요."
ENGLISH = "Confirm your identity. Please enter the details exactly as they appear on your ID card."


@pytest.fixture(autouse=True)
def _espeak():
    require_command("espeak-ng", "espeak-ng")
    speech.synthesize.cache_clear()


def measure(wav: bytes) -> tuple[float, float, float]:
    """(seconds, RMS of the whole, share of 20 ms windows louder than 1 % of full scale)."""
    with wave.open(io.BytesIO(wav)) as reader:
        assert reader.getsampwidth() == 2
        rate, frames = reader.getframerate(), reader.readframes(reader.getnframes())
    samples = array.array("h", frames)
    window = rate // 50
    loud = [math.sqrt(sum(v * v for v in samples[i:i + window]) / window)
            for i in range(0, len(samples) - window, window)]
    rms = math.sqrt(sum(v * v for v in samples) / len(samples))
    return len(samples) / rate, rms, sum(1 for v in loud if v > 327) / max(1, len(loud))


def said(client, text, lang="ko-KR", rate="1", volume="1"):
    return client.post("/speech", data={"text": text, "lang": lang, "rate": rate, "volume": volume})


@pytest.mark.parametrize(("text", "lang"), [(KOREAN, "ko-KR"), (ENGLISH, "en-US")])
def test_the_kiosk_speaks_korean_and_english(client, text, lang):
    reply = said(client, text, lang)
    assert reply.status_code == 200 and reply.mimetype == "audio/wav"
    seconds, rms, voiced = measure(reply.data)
    assert seconds > 2 and rms > 500 and voiced > 0.4, (seconds, rms, voiced)


def test_the_rate_the_page_sets_reaches_the_engine(client):
    slow = measure(said(client, KOREAN, rate="0.6").data)[0]
    normal = measure(said(client, KOREAN, rate="1").data)[0]
    fast = measure(said(client, KOREAN, rate="1.8").data)[0]
    assert slow > normal * 1.3 and fast < normal * 0.75, (slow, normal, fast)


def test_the_volume_the_page_sets_reaches_the_engine(client):
    loud = measure(said(client, ENGLISH, "en-US", volume="1").data)[1]
    quiet = measure(said(client, ENGLISH, "en-US", volume="0.3").data)[1]
    assert quiet < loud * 0.5, (quiet, loud)


def test_the_customers_loudest_step_is_louder_than_the_default_and_the_quietest_quieter(client):
    """The settings bar's five volume steps (kiosk.speech.VOLUME_STEPS) are five loudnesses of the WAV."""
    loudness = [measure(said(client, ENGLISH, "en-US", volume=str(step)).data)[1] for step in speech.VOLUME_STEPS]
    assert loudness == sorted(loudness) and len(set(loudness)) == len(loudness), loudness
    middle = loudness[speech.DEFAULT_STEP]
    assert loudness[0] < middle * 0.6 and loudness[-1] > middle * 1.3, loudness


def test_out_of_range_settings_are_clamped_and_bad_input_is_refused_politely(client):
    assert speech.parameters("ko-KR", 9, 7) == ("ko", round(speech.BASE_WORDS_PER_MINUTE * 2), 200)
    assert speech.parameters("en-US", -1, -1) == ("en-us", round(speech.BASE_WORDS_PER_MINUTE * 0.5), 0)
    assert said(client, "").status_code == 400
    assert said(client, "가" * (speech.MAX_CHARS + 1)).status_code == 400
    assert said(client, KOREAN, rate="fast", volume="nan").status_code == 200   # the defaults


def test_the_page_knows_where_the_kiosk_speaks(client):
    page = client.get("/").get_data(as_text=True)
    assert 'data-speech-url="/speech"' in page

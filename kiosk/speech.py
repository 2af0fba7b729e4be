"""Spoken guidance synthesised on the kiosk: espeak-ng turns a step's text into a WAV, which the page plays
(static/js/a11y.js) through the browser's own audio output.

Why not the browser's speechSynthesis: Chromium on Linux speaks only through speech-dispatcher, started with
--enable-speech-dispatcher, as a per-user daemon beside cage with its own audio output; and it passes the
utterance's rate and pitch to speech-dispatcher but drops its volume (content/browser/speech/tts_linux.cc),
so the volume a customer chooses would not reach the voice. Here rate and volume go to espeak-ng itself
(`-s` words per minute, `-a` amplitude), the page needs nothing but an <audio> element, and the same WAV can
be measured in a test. Korean and English are espeak-ng's `ko` and `en-us` voices (espeak-ng-data).

No Flask here: kiosk/web/views/speech.py serves it. Nothing spoken is logged (a name or an e-mail address
may be on the screen); the page never sends a secret (a typed PIN is spoken as "typed").
"""

from __future__ import annotations

import functools
import shutil
import subprocess

VOICES = {"ko": "ko", "en": "en-us"}
BASE_WORDS_PER_MINUTE = 165  # rate 1.0; espeak-ng accepts 80-450
RATE_RANGE = (0.5, 2.0)      # what the page may ask (SpeechSynthesisUtterance.rate's useful range)
# the customer's speed and volume controls (issue 26, item 15): five steps each, the middle one to start
# with; a visit's end brings it back. Volume above 1 is louder than espeak-ng's default amplitude (100).
RATE_STEPS = (0.7, 0.8, 0.95, 1.15, 1.4)
VOLUME_STEPS = (0.4, 0.7, 1.0, 1.3, 1.6)
DEFAULT_STEP = 2
MAX_CHARS = 600              # a step's heading, hint, message and pictures; longer requests are refused
TIMEOUT_SECONDS = 20


class SpeechUnavailable(RuntimeError):
    """No espeak-ng on this machine (the page then falls back to the browser's own voice, if any)."""


def espeak() -> str | None:
    return shutil.which("espeak-ng")


def available() -> bool:
    return espeak() is not None


def clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def parameters(lang: str, rate: float, volume: float) -> tuple[str, int, int]:
    """(voice, words per minute, amplitude) for the page's language, rate (1 = normal) and volume (1 =
    espeak-ng's default amplitude of 100, at most 2)."""
    voice = VOICES.get(lang.split("-")[0].lower(), VOICES["ko"])
    words_per_minute = round(BASE_WORDS_PER_MINUTE * clamp(rate, *RATE_RANGE))
    amplitude = round(100 * clamp(volume, 0.0, 2.0))  # espeak-ng's default is 100 (of 200)
    return voice, words_per_minute, amplitude


@functools.lru_cache(maxsize=128)
def synthesize(text: str, lang: str = "ko", rate: float = 1.0, volume: float = 1.0) -> bytes:
    """The WAV espeak-ng makes of `text` (16-bit mono, 22050 Hz). The same guidance repeats from customer
    to customer, so replies are cached."""
    text = " ".join(text.split())
    if not text or len(text) > MAX_CHARS:
        raise ValueError(f"text of {len(text)} characters (1-{MAX_CHARS})")
    program = espeak()
    if program is None:
        raise SpeechUnavailable("espeak-ng is not installed")
    voice, words_per_minute, amplitude = parameters(lang, rate, volume)
    result = subprocess.run([program, "-v", voice, "-s", str(words_per_minute), "-a", str(amplitude),
                             "--stdin", "--stdout"], input=text.encode(), capture_output=True,
                            timeout=TIMEOUT_SECONDS, check=False)
    if result.returncode != 0 or not result.stdout.startswith(b"RIFF"):
        raise SpeechUnavailable(f"espeak-ng exit {result.returncode}: {result.stderr.decode(errors='replace')[:200]}")
    return result.stdout

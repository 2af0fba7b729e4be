"""POST /speech: the kiosk's voice (kiosk.speech, espeak-ng) for the page's spoken guidance, as a WAV the
page plays. The page sends the text, its language, and the rate and volume the customer chose; those reach
espeak-ng as they are (clamped). A polite 4xx/503 on bad input or no voice: the page then stays silent or
uses the browser's own voice."""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from kiosk import logs, speech

bp = Blueprint("speech", __name__)


@bp.app_context_processor
def speech_url() -> dict:
    """`speech_url` for templates/_page.html: where the page asks for speech, empty without a voice."""
    return {"speech_url": url_for("speech.say") if speech.available() else ""}


def _number(name: str, default: float) -> float:
    try:
        value = float(request.form.get(name, default))
    except (TypeError, ValueError):
        return default
    return value if value == value else default  # NaN


@bp.post("/speech")
def say():
    text = request.form.get("text", "")
    lang = request.form.get("lang", "ko")[:8]
    rate, volume = _number("rate", 1.0), _number("volume", 1.0)
    try:
        wav = speech.synthesize(" ".join(text.split()), lang, round(rate, 2), round(volume, 2))
    except ValueError:
        logs.warning("speech.refused", chars=len(text))
        return "", 400
    except (speech.SpeechUnavailable, OSError) as error:
        logs.error("speech.unavailable", reason=str(error)[:200])
        return "", 503
    voice, words_per_minute, amplitude = speech.parameters(lang, rate, volume)
    # what the engine was asked, never what it said
    logs.event("speech.said", voice=voice, wpm=words_per_minute, amplitude=amplitude, chars=len(text),
              bytes=len(wav))
    return Response(wav, mimetype="audio/wav", headers={"Cache-Control": "no-store"})

"""Hold timer rules: the check-in interval, durations in words, the hold script's link."""

from __future__ import annotations

from flask import url_for

from kb.callscripts.services import ScriptNotFound, get_script

DEFAULT_CHECKIN_SECONDS = 45
MIN_CHECKIN_SECONDS = 5
MAX_CHECKIN_SECONDS = 600
HOLD_SCRIPT_SLUG = "hold"

# The words to say, shown on the hold page and by the call bar on every page (one copy).
WORDS = {
    "ask": "“I need to check that with [the repairs team]. Is it all right if I put you on hold "
    "for a moment? It should take about [a minute].”",
    "checkin": "“Thank you for holding, [name]. I'm still [checking with the repairs team]. "
    "Are you happy to hold a little longer, or would you prefer me to call you back?”",
    "return": "“Thank you for holding, [name], I appreciate your patience.”",
}


def checkin_interval(requested: str | None, default: object = DEFAULT_CHECKIN_SECONDS) -> int:
    """Seconds between check-ins: ?interval=N if it is a whole number, else the setting.

    Either is clamped to 5-600 seconds, so a typo cannot silence the prompt.
    """
    for value in (requested, default):
        try:
            seconds = int(str(value).strip())
        except (TypeError, ValueError):
            continue
        return max(MIN_CHECKIN_SECONDS, min(MAX_CHECKIN_SECONDS, seconds))
    return DEFAULT_CHECKIN_SECONDS


def call_bar(setting: object = DEFAULT_CHECKIN_SECONDS) -> dict:
    """What the header's call bar needs: the check-in interval for a hold started there, and
    the words to say when checking back and when taking the caller off hold."""
    interval = checkin_interval(None, setting)
    return {"interval": interval, "interval_words": describe_seconds(interval), "words": WORDS}


def describe_seconds(seconds: int) -> str:
    """A duration in words: '45 seconds', '1 minute', '1 minute 30 seconds'."""
    minutes, rest = divmod(seconds, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if rest or not minutes:
        parts.append(f"{rest} second{'s' if rest != 1 else ''}")
    return " ".join(parts)


def hold_script_url() -> str | None:
    """The hold etiquette call script's address, once that script has been imported."""
    try:
        get_script(HOLD_SCRIPT_SLUG)
    except ScriptNotFound:
        return None
    return url_for("callscripts.start", slug=HOLD_SCRIPT_SLUG)

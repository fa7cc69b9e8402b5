"""Hold timer: counts a hold up, prompts the agent to check back, counts holds per call.

The same timer runs in the header of every signed-in page (the call bar, kb/static/js/
callbar.js); ``hold_bar()`` gives base.html what that bar needs.
"""

from __future__ import annotations

from flask import current_app, render_template, request

from kb.tools import bp
from kb.tools.hold.services import (
    DEFAULT_CHECKIN_SECONDS,
    WORDS,
    call_bar,
    checkin_interval,
    describe_seconds,
    hold_script_url,
)


def _setting() -> object:
    return current_app.config.get("KB_HOLD_CHECKIN_SECONDS", DEFAULT_CHECKIN_SECONDS)


@bp.app_context_processor
def hold_bar_helpers() -> dict:
    """``hold_bar()`` for the header: a lazy callable, so pages without a header pay nothing."""
    return {"hold_bar": lambda: call_bar(_setting())}


@bp.route("/hold")
def hold():
    """The hold timer, with the words to say when asking, checking back and returning."""
    setting = _setting()
    interval = checkin_interval(request.args.get("interval"), setting)
    return render_template(
        "tools/hold.html",
        interval=interval,
        interval_words=describe_seconds(interval),
        overridden=interval != checkin_interval(None, setting),
        script_url=hold_script_url(),
        words=WORDS,
    )

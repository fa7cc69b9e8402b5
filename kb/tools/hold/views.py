"""Hold timer: counts a hold up, prompts the agent to check back, counts holds per call."""

from __future__ import annotations

from flask import current_app, render_template, request

from kb.tools import bp
from kb.tools.hold.services import (
    DEFAULT_CHECKIN_SECONDS,
    checkin_interval,
    describe_seconds,
    hold_script_url,
)


@bp.route("/hold")
def hold():
    """The hold timer, with the words to say when asking, checking back and returning."""
    setting = current_app.config.get("KB_HOLD_CHECKIN_SECONDS", DEFAULT_CHECKIN_SECONDS)
    interval = checkin_interval(request.args.get("interval"), setting)
    return render_template(
        "tools/hold.html",
        interval=interval,
        interval_words=describe_seconds(interval),
        overridden=interval != checkin_interval(None, setting),
        script_url=hold_script_url(),
    )

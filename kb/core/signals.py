"""Signals features subscribe to instead of importing each other (blinker, via Flask)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the document (Article or CallScript); kwargs: version, material.
version_published = _signals.signal("version-published")
# sender: the document.
document_archived = _signals.signal("document-archived")
# sender: the document; kwargs: user, version.
signoff_recorded = _signals.signal("signoff-recorded")
# sender: the document signed; kwargs: signer (the user who signed), countersigner, signoff
# (the SignOff countersigned). Sent once per countersignature, before the commit.
signoff_countersigned = _signals.signal("signoff-countersigned")
# sender: the document (Article or CallScript) a GET request just showed; kwargs: user,
# args (the request's query string, e.g. ``from``/``rank`` of a search result link).
# Receivers log usage and must never raise (kb.analytics.views_log).
document_viewed = _signals.signal("document-viewed")
# sender: the CallScript; kwargs: user, version (number), end_step, path (step ids). Sent
# when a user says, at an end step, that they walked the script through (a POST);
# kb.induction keeps the walk-through as induction evidence.
script_walked = _signals.signal("script-walked")

"""Phonetic speller API: GET /api/phonetic?text= (DESIGN.md contract)."""

from __future__ import annotations

from flask import abort, jsonify, request

from kb.api import bp
from kb.tools.phonetic.speller import PhoneticInputError, spell


@bp.route("/phonetic")
def phonetic():
    """Spell text in the NATO alphabet, or read NATO words back with mode=decode."""
    if "text" not in request.args:
        abort(400, description="Add the text to spell, e.g. /api/phonetic?text=SE1%201AA.")
    # Spelling out is the default so the contract's shape never depends on what is typed;
    # mode=auto lets the words decide.
    mode = request.args.get("mode", "encode")
    try:
        result = spell(request.args["text"], mode)
    except PhoneticInputError as error:
        abort(400, description=str(error))
    return jsonify(result.to_json())

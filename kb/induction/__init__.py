"""Induction programmes: a new starter's checklist of sign-offs, script walk-throughs and
manager-confirmed tasks, with due dates and a printable record.

Stands on kb.signoffs (an article item is done when it is signed) and hears script
walk-throughs through ``kb.core.signals.script_walked``.
"""

from flask import Blueprint

bp = Blueprint("induction", __name__, template_folder="templates")

from kb.induction import models  # noqa: E402,F401  (its tables are in the metadata)

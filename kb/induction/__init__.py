"""Induction programmes: a new starter's checklist of sign-offs, script walk-throughs and
manager-confirmed tasks, with due dates and a printable record.

Stands on kb.signoffs (an article item is done when it is signed) and hears script
walk-throughs through ``kb.core.signals.script_walked``.
"""

from flask import Blueprint

from kb.core.signals import script_walked

bp = Blueprint("induction", __name__, template_folder="templates", url_prefix="/induction")

# models: its tables are in the metadata; services: the receiver connected below.
from kb.induction import models, services  # noqa: E402,F401

# A walk-through said at a call script's end step is kept as induction evidence.
script_walked.connect(services.on_script_walked)

from kb.induction import views  # noqa: E402,F401  (registers the routes on bp)

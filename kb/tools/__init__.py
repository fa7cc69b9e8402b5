"""Mid-call tools: phonetic speller, hold timer, due date calculator.

One package per tool (views, services, and forms where it has one); they share this
blueprint, so every address and endpoint name stays ``tools.*``.
"""

from flask import Blueprint

bp = Blueprint("tools", __name__, url_prefix="/tools")

from kb.tools.duedates import in_force as _in_force  # noqa: E402
from kb.tools.duedates import views as _duedates  # noqa: E402,F401
from kb.tools.hold import views as _hold  # noqa: E402,F401
from kb.tools.phonetic import views as _phonetic  # noqa: E402,F401

# Other features' pages (call script steps, articles) show the standards in force and
# their dates for now through these lazy template callables and tools/_due_dates.html.
bp.app_context_processor(_in_force.helpers)

"""Search analytics for managers, and the click-through log behind them."""

from flask import Blueprint

from kb.analytics import usage
from kb.core.signals import document_viewed

bp = Blueprint("analytics", __name__, url_prefix="/analytics")

# Every article and call script opening is logged (kb.analytics.usage.record_view).
document_viewed.connect(usage.on_document_viewed)

from kb.analytics import views  # noqa: E402,F401  (registers the routes on bp)

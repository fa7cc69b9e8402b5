"""Managers' pages: what needs attention. (Search vocabularies: kb/search/vocabularies.py.)"""

from __future__ import annotations

from dataclasses import dataclass

from kb.core.permissions import require
from kb.extensions import db
from kb.models import CrisisIncident, User


@dataclass
class Dashboard:
    scripts_to_review: int
    helplines_to_verify: int
    incidents_unreviewed: int
    standards: int
    reviews_overdue: int = 0
    feedback_open: int = 0  # out-of-date reports from agents (kb.feedback)


def dashboard() -> Dashboard:
    """What needs a manager's attention, gathered from each feature's own rules."""
    from kb.callscripts.services import scripts_needing_review
    from kb.crisis.services import all_helplines, local_today, max_age_days, stale_helpline_ids
    from kb.feedback.services import open_count as feedback_open_count
    from kb.reviews.services import overdue_count
    from kb.tools.duedates.services import list_standards

    unreviewed = db.session.scalar(
        db.select(db.func.count(CrisisIncident.id)).where(~CrisisIncident.reviews.any())
    )
    return Dashboard(
        scripts_to_review=len(scripts_needing_review()),
        helplines_to_verify=len(stale_helpline_ids(all_helplines(), local_today(), max_age_days())),
        incidents_unreviewed=unreviewed or 0,
        standards=len(list_standards()),
        reviews_overdue=overdue_count(),
        feedback_open=feedback_open_count(),
    )


@dataclass(frozen=True)
class Attention:
    """One thing waiting for a manager, for the top of their home page."""

    count: int
    label: str  # what the count counts, in the plural form the count needs
    endpoint: str  # the page where they deal with it


def attention(board: Dashboard) -> list[Attention]:
    """What needs a manager now, most pressing first; only the kinds with a count."""
    def plural(count: int, one: str, many: str) -> str:
        return one if count == 1 else many

    items = [
        Attention(board.incidents_unreviewed,
                  plural(board.incidents_unreviewed, "crisis incident to review",
                         "crisis incidents to review"), "crisis.incidents"),
        Attention(board.helplines_to_verify,
                  plural(board.helplines_to_verify, "helpline to verify",
                         "helplines to verify"), "crisis.helplines"),
        Attention(board.reviews_overdue,
                  plural(board.reviews_overdue, "article review overdue",
                         "article reviews overdue"), "reviews.dashboard"),
        Attention(board.scripts_to_review,
                  plural(board.scripts_to_review, "call script to review",
                         "call scripts to review"), "callscripts.review"),
        Attention(board.feedback_open,
                  plural(board.feedback_open, "open feedback report",
                         "open feedback reports"), "feedback.queue"),
    ]
    return [item for item in items if item.count]


def save_vocabulary(name: str, text: str, user: User | None) -> int:
    """A manager's edit of a search vocabulary (raises NotAllowed for anyone else, and
    VocabularyInvalid); returns the lines changed. The caller commits."""
    from kb.search.vocabularies import save_vocabulary as store

    require(user, "manager", "Only managers can change the search vocabularies.")
    return store(name, text, user)

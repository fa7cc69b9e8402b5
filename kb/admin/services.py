"""Managers' pages: what needs attention, and editing the search synonyms safely."""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from kb.extensions import db
from kb.models import AuditLog, CrisisIncident, User

MAX_SYNONYMS_BYTES = 200_000
MAX_LINE_CHARS = 2_000


class SynonymsError(ValueError):
    """Synonyms text that cannot be saved; the message says why."""


def synonyms_path() -> Path:
    return Path(current_app.config["KB_SYNONYMS_FILE"])


def read_synonyms() -> str:
    """The synonyms file's text (empty if it does not exist yet)."""
    try:
        return synonyms_path().read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def check_synonyms(text: str) -> list[str]:
    """Problems that stop ``text`` being saved (empty list when it is fine)."""
    problems = []
    if len(text.encode("utf-8")) > MAX_SYNONYMS_BYTES:
        problems.append(f"The file may be at most {MAX_SYNONYMS_BYTES // 1000} kB.")
    if "\x00" in text:
        problems.append("The text contains a NUL character; paste plain text only.")
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE_CHARS:
            problems.append(f"Line {number} is longer than {MAX_LINE_CHARS} characters.")
        body = line.split("#", 1)[0].strip()
        if body and len([t for t in body.split(",") if t.strip()]) < 2:
            problems.append(
                f"Line {number} has only one term ({body[:40]!r}); a group needs two or more "
                "terms separated by commas, or start the line with # to make it a comment."
            )
    return problems


def save_synonyms(text: str, user: User) -> int:
    """Replace the synonyms file atomically and audit the change; returns lines changed."""
    text = text.replace("\r\n", "\n")
    problems = check_synonyms(text)
    if problems:
        raise SynonymsError(" ".join(problems[:5]))
    before = read_synonyms()
    diff = list(difflib.unified_diff(before.splitlines(), text.splitlines(), lineterm="", n=0))
    changed = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    if not changed:
        return 0
    path = synonyms_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write a temporary file and rename it, so no search ever reads half a file.
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".synonyms-", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text if text.endswith("\n") else text + "\n")
    os.replace(temp, path)
    db.session.add(AuditLog(user_id=user.id, action="synonyms.update", target=path.name,
                            detail={"diff": changed[:500]}))
    db.session.commit()
    return len(changed)


@dataclass
class Dashboard:
    scripts_to_review: int
    helplines_to_verify: int
    incidents_unreviewed: int
    standards: int


def dashboard() -> Dashboard:
    """What needs a manager's attention, gathered from each feature's own rules."""
    from kb.callscripts.services import scripts_needing_review
    from kb.crisis.services import all_helplines, local_today, max_age_days, stale_helpline_ids
    from kb.tools.duedates.services import list_standards

    unreviewed = db.session.scalar(
        db.select(db.func.count(CrisisIncident.id)).where(~CrisisIncident.reviews.any())
    )
    return Dashboard(
        scripts_to_review=len(scripts_needing_review()),
        helplines_to_verify=len(stale_helpline_ids(all_helplines(), local_today(), max_age_days())),
        incidents_unreviewed=unreviewed or 0,
        standards=len(list_standards()),
    )

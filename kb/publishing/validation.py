"""Checking what a manager typed: slugs, article front matter, change summaries, and call
scripts exactly as the import checks them. Each problem raises Invalid naming its field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kb.callscripts.fill import unfillable_placeholders
from kb.callscripts.format import RESERVED_SLUGS, ScriptInvalid, parse_script_text
from kb.callscripts.services import article_versions
from kb.content.loader import (
    MAX_CHARS,
    ContentError,
    parse_tags,
    slug_message,
    split_front_matter,
)
from kb.core.errors import Invalid, NotFound
from kb.extensions import db
from kb.models import Article, CallScript, Team
from kb.publishing import questions

MODELS: dict[str, type] = {"article": Article, "script": CallScript}
NOUNS = {"article": "article", "script": "call script"}
# /articles/<slug> and /scripts/<slug>/ share their folders with these pages.
RESERVED = {"article": set(), "script": set(RESERVED_SLUGS)}
MAX_MARKDOWN = 500_000


@dataclass(frozen=True)
class Problem:
    """One problem in a call script's source: the line and step it belongs to."""

    message: str
    line: int | None = None
    step: str | None = None


class ScriptProblems(Invalid):
    """A call script that fails the import checks; ``problems`` lists each one."""

    def __init__(self, problems: list[Problem]):
        count = len(problems)
        super().__init__("markdown", f"The call script has {count} problem"
                         f"{'s' if count != 1 else ''}; each is listed beside its step.")
        self.problems = problems


def model_for(kind: str) -> type:
    """The model of a document kind ("article" or "script"); NotFound for any other."""
    if kind not in MODELS:
        raise NotFound(kind)
    return MODELS[kind]


# ----- validation ----------------------------------------------------------------------


def clean_slug(kind: str, slug: str, document=None) -> str:
    """A valid, unused slug for a document of ``kind``; raises Invalid("slug", ...)."""
    slug = (slug or "").strip()
    if not slug:
        raise Invalid("slug", "Enter a slug: lower-case letters, digits and hyphens.")
    if len(slug) > MAX_CHARS["slug"]:
        raise Invalid("slug", f"The slug is {len(slug)} characters; the most is "
                      f"{MAX_CHARS['slug']}.")
    if slug_message(slug):
        raise Invalid("slug", "The slug may use only lower-case letters, digits and hyphens, "
                      "and must start and end with a letter or digit (e.g. lost-keys).")
    if slug in RESERVED[kind]:
        raise Invalid("slug", f"“{slug}” is reserved for a page of the site; choose another.")
    other = db.session.scalar(db.select(model_for(kind)).filter_by(slug=slug))
    if other is not None and (document is None or other.id != document.id):
        raise Invalid("slug", f"Another {NOUNS[kind]} already uses the slug “{slug}”.")
    return slug


def _text(data: Mapping, key: str, label: str, *, required: bool = False) -> str:
    """A one-line text field, spaces tidied, checked against its column size."""
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise Invalid(key, f"{label} must be text.")
    text = " ".join((value or "").split())
    if required and not text:
        raise Invalid(key, f"Enter the {label.lower()}.")
    limit = MAX_CHARS.get(key, 2000)
    if len(text) > limit:
        raise Invalid(key, f"{label} is {len(text)} characters; the most is {limit}.")
    return text


def _flag(data: Mapping, key: str) -> bool:
    """A yes/no field: a JSON boolean or a checkbox's presence."""
    value = data.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"y", "yes", "on", "true", "1"}:
        return True
    if value is None or (isinstance(value, str) and value.strip().lower() in
                         {"", "n", "no", "off", "false", "0"}):
        return False
    raise Invalid(key, f"{key} must be true or false.")


def clean_markdown(value: object, *, field: str = "markdown") -> str:
    """Body text with Windows line ends removed; raises Invalid when empty or huge."""
    if not isinstance(value, str):
        raise Invalid(field, "The text must be a string of Markdown.")
    text = value.replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        raise Invalid(field, "The text is empty: write the article's body.")
    if len(text) > MAX_MARKDOWN:
        raise Invalid(field, f"The text is {len(text):,} characters; the most is "
                      f"{MAX_MARKDOWN:,}.")
    return text + "\n"


def clean_article_fields(data: Mapping, document=None) -> dict:
    """The article front matter in ``data`` checked and tidied; raises Invalid(field, msg)."""
    tags = data.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    tags = parse_tags(tags)
    if tags is None or any(len(t) > 60 for t in tags) or len(tags) > 30:
        raise Invalid("tags", "Tags must be a list of words (at most 30, each up to 60 "
                      "characters), e.g. repairs, leak.")
    cycle = data.get("review_cycle_months", 12)
    if isinstance(cycle, str) and cycle.strip().isdigit():
        cycle = int(cycle.strip())
    if isinstance(cycle, bool) or not isinstance(cycle, int) or not 1 <= cycle <= 60:
        raise Invalid("review_cycle_months", "The review cycle must be a whole number of "
                      "months from 1 to 60.")
    summary = data.get("summary") or ""
    if not isinstance(summary, str):
        raise Invalid("summary", "The quick answer must be text.")
    if len(summary) > 2000:
        raise Invalid("summary", "The quick answer is too long; keep it under 2,000 "
                      "characters.")
    return {
        "title": _text(data, "title", "Title", required=True),
        "slug": clean_slug("article", data.get("slug") or "", document),
        "category": _text(data, "category", "Category") or "General",
        "tags": tags,
        "summary": " ".join(summary.split()),
        "owner": _text(data, "owner", "Owner"),
        "review_cycle_months": cycle,
        "requires_signoff": _flag(data, "requires_signoff"),
        "requires_approval": _flag(data, "requires_approval"),
        **clean_signoff_fields(data, document),
    }


SIGNOFF_ROLES = ("agent", "manager", "admin", "all")


def clean_signoff_fields(data: Mapping, document=None) -> dict:
    """Who signs (role and team), the days they have and the comprehension questions; a
    missing value keeps the document's (so an API change that does not mention them leaves
    them be): team and questions are then left out of the answer. Raises Invalid."""
    saved = document is not None and document.id is not None
    role = data.get("signoff_role")
    if role is None or role == "":
        role = (document.signoff_role or "all") if saved else "agent"
    if role not in SIGNOFF_ROLES:
        raise Invalid("signoff_role", "Who signs must be agents, managers, admins or "
                                      "everyone (all).")
    days = data.get("signoff_window_days")
    if days is None or days == "":
        days = (document.signoff_window_days or 14) if saved else 14
    if isinstance(days, str) and days.strip().isdigit() and len(days.strip()) <= 4:
        days = int(days.strip())
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        raise Invalid("signoff_window_days", "The days to sign must be a whole number from "
                                             "1 to 365.")
    cleaned = {"signoff_role": role, "signoff_window_days": days}
    if "signoff_team_id" in data:
        cleaned["signoff_team_id"] = clean_team(data["signoff_team_id"])
    # The editor sends its text form as signoff_questions; the API may send the front
    # matter's "questions" list (or null for none).
    for key in ("signoff_questions", "questions"):
        if key in data:
            cleaned["signoff_questions"] = questions.clean(data[key])
    return cleaned


def clean_team(value: object) -> int | None:
    """The team that signs: None (every team) or the id of a team that exists."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 9:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("signoff_team_id", "The team that signs must be a team's id, or "
                                         "empty (null) for every team.")
    if db.session.get(Team, value) is None:
        raise Invalid("signoff_team_id", "That team does not exist (it may have been "
                                         "removed): choose a team from the list, or every "
                                         "team.")
    return value


def clean_change(change_summary: object, material: object) -> tuple[str, bool]:
    """The required change summary and the material flag; raises Invalid."""
    if change_summary is not None and not isinstance(change_summary, str):
        raise Invalid("change_summary", "The change summary must be text.")
    summary = " ".join((change_summary or "").split())
    if not summary:
        raise Invalid("change_summary", "Say in a few words what changed and why (the "
                      "change summary agents see).")
    if len(summary) > MAX_CHARS["change_summary"]:
        raise Invalid("change_summary", f"The change summary is {len(summary)} characters; "
                      f"the most is {MAX_CHARS['change_summary']}.")
    return summary, _flag({"material": material}, "material")


def check_script(source: str, slug: str):
    """Parse call script source exactly as the import does; raises ScriptProblems."""
    try:
        return parse_script_text(source, f"{slug}.md", slug=slug,
                                 known_articles=set(article_versions()))
    except ScriptInvalid as invalid:
        errors = invalid.errors
    except ContentError as error:  # front matter broken before steps could be read
        errors = [error]
    raise ScriptProblems([Problem(e.message, e.line, getattr(e, "step", None))
                          for e in errors])


def script_warnings(source: str, slug: str) -> list[Problem]:
    """What the import warns about in a call script that passes its checks: placeholders
    that no route to their step fills from a capture field or a "Set:" line. They never stop
    a publish; a script with problems has none (its problems are listed instead)."""
    try:
        parsed = check_script(source, slug)
    except ScriptProblems:
        return []
    return [Problem(message, line, step)
            for message, line, step in unfillable_placeholders(parsed)]


def script_category(source: str) -> str:
    """The category named in a script's front matter (for the approval rule)."""
    try:
        meta, _body, _line = split_front_matter("editor", source)
    except ContentError:
        return ""
    return str(meta.get("category") or "Call scripts")


def preview_body(kind: str, text: str) -> str:
    """The Markdown the preview renders: a script's source without its front matter."""
    if kind != "script":
        return text
    try:
        return split_front_matter("editor", text.replace("\r\n", "\n"))[1]
    except ContentError:
        return text

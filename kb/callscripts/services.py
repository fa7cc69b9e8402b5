"""Call script rules: importing versions, walking steps, call summaries and script review."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from sqlalchemy.orm import joinedload

from kb.callscripts.fill import PLACEHOLDER_RE, Answers
from kb.callscripts.format import (
    CaptureField,
    ParsedScript,
    ScriptInvalid,
    Step,
    parse_script,
    parse_script_text,
)
from kb.callscripts.walk import (
    choice_between,
    is_valid_path,
    shortest_path,
    summary_details,
    summary_head,
    summary_items,
)
from kb.content.importing import ContentErrors, ImportReport, import_folder
from kb.content.render import render_markdown
from kb.core import audit
from kb.core.clock import format_local
from kb.core.errors import Invalid, NotAllowed, NotFound  # noqa: F401  (NotAllowed re-exported)
from kb.core.permissions import require
from kb.core.signals import script_walked
from kb.core.versioning import publish
from kb.extensions import db
from kb.models import (
    Article,
    ArticleVersion,
    CallScript,
    CallScriptVersion,
    User,
    utcnow,
)

MAX_PATH_STEPS = 100  # a longer path is cut back to the shortest route
SHORT_VALUE_CHARS = 200
LONG_VALUE_CHARS = 2000


class ScriptNotFound(NotFound):
    """No call script has this slug."""


class StepNotFound(NotFound):
    """The script has no step with this id."""


class PathInvalid(ValueError):
    """The path in the request is not a route through the script; ``path`` is a valid one."""

    def __init__(self, path: list[str]):
        super().__init__("path does not match the script")
        self.path = path


@dataclass(frozen=True)
class Cited:
    """An article shown beside a step."""

    slug: str
    title: str
    summary: str
    fragment: str = ""


@dataclass(frozen=True)
class ChangedCitation:
    """A cited article whose current version is newer than the one last reviewed."""

    slug: str
    title: str
    reviewed_version: int | None
    current_version: int


@dataclass
class PlayerState:
    """Everything the player shows for one step of one call."""

    script: CallScript
    definition: ParsedScript
    step: Step
    path: list[str]
    values: dict[str, str]
    say_html: str
    guidance_html: str
    alerts_html: str
    cited: list[Cited]
    trail: list[tuple[Step, str]]  # each step in the path and the answer chosen there
    summary: str | None = None
    # At an end step, what player.js needs to rebuild the summary as fields change: the
    # lines before the details, and the details' items (see walk.summary_items).
    summary_parts: dict | None = None
    carried: dict[str, str] = field(default_factory=dict)  # values not asked for here
    intro_html: str = ""
    decided: dict[str, str] = field(default_factory=dict)  # values "Set:" on the path

    @property
    def at_start(self) -> bool:
        """True on the script's first step, before any choice."""
        return not self.path and self.step.id == self.definition.start

    @property
    def back_to(self) -> str | None:
        """The step Back returns to."""
        return self.path[-1] if self.path else None

    @property
    def fields(self) -> list[tuple[CaptureField, str]]:
        """This step's capture fields with their current values."""
        return [(f, self.values.get(f.key, "")) for f in self.step.capture]

    @property
    def captured(self) -> list[tuple[CaptureField, str]]:
        """Every non-empty value captured so far, in script order."""
        found = [(f, self.values[f.key]) for f in self.definition.fields.values()
                 if self.values.get(f.key)]
        return found + [(CaptureField(key, key.replace("_", " ").capitalize()), value)
                        for key, value in self.decided.items()]


# ----- import -------------------------------------------------------------------------


def article_versions() -> dict[str, int]:
    """slug -> current version number of every article."""
    rows = db.session.execute(
        db.select(Article.slug, ArticleVersion.number).join(
            ArticleVersion, Article.current_version_id == ArticleVersion.id
        )
    )
    return {slug: number for slug, number in rows}


def save_script_version(
    script: CallScript | None,
    parsed: ParsedScript,
    *,
    author: User | None = None,
    current_articles: Mapping[str, int] | None = None,
    material: bool = True,
) -> tuple[CallScript, bool]:
    """Apply ``parsed`` to a script, adding a version only when the file changed.

    Cited articles met for the first time are recorded at their current version; ones
    already recorded keep their reviewed version, so a rewrite never clears a review
    flag silently. The caller commits.
    """
    current_articles = current_articles if current_articles is not None else article_versions()
    if script is None:
        script = CallScript(slug=parsed.slug, created_at=utcnow(), reviewed_citations={})
        db.session.add(script)
    script.title = parsed.title
    script.category = parsed.category
    script.tags = list(parsed.tags)
    script.summary = parsed.summary
    script.owner = parsed.owner
    script.source_path = parsed.path or script.source_path

    if script.id is None:
        db.session.flush()  # the audit row names the script by id
    cited = parsed.cited_slugs
    _version, created = publish(
        script, parsed.source, author, parsed.change_summary, material,
        version_class=CallScriptVersion, action="callscript.version",
        fields={"title": parsed.title, "cited_slugs": cited}, source=parsed.path,
    )
    if not created:
        if db.session.is_modified(script):
            script.updated_at = utcnow()
            audit.record(author, "callscript.metadata", script, audit.changed_fields(
                script, ("category", "tags", "summary", "owner", "source_path")))
        return script, False
    reviewed = dict(script.reviewed_citations or {})
    for slug in cited:
        if slug not in reviewed and slug in current_articles:
            reviewed[slug] = current_articles[slug]
    script.reviewed_citations = {slug: reviewed[slug] for slug in cited if slug in reviewed}
    return script, True


def import_scripts(directory: Path) -> ImportReport:
    """Load every script file under ``directory``; bad files are reported and skipped."""
    current_articles = article_versions()
    known = set(current_articles)

    warnings: list[str] = []

    def parse(path: Path) -> ParsedScript:
        try:
            parsed = parse_script(path, root=directory.parent, known_articles=known)
        except ScriptInvalid as problem:
            raise ContentErrors(problem.errors) from None
        warnings.extend(parsed.warnings)
        return parsed

    report = import_folder(
        directory,
        model=CallScript,
        parse=parse,
        save=lambda script, item: save_script_version(
            script, item, current_articles=current_articles
        ),
        noun="script",
    )
    report.warnings.extend(warnings)
    return report


# ----- reading ------------------------------------------------------------------------


def list_scripts() -> list[CallScript]:
    """Every script with a version and not archived, by title."""
    return db.session.scalars(
        db.select(CallScript)
        .where(CallScript.current_version_id.is_not(None), CallScript.archived_at.is_(None))
        .order_by(CallScript.title)
    ).all()


def get_script(slug: str) -> CallScript:
    """The script with this slug; raises ScriptNotFound."""
    script = db.session.scalar(
        db.select(CallScript)
        .options(joinedload(CallScript.current_version))
        .filter_by(slug=slug)
    )
    if script is None or script.current_version is None:
        raise ScriptNotFound(slug)
    return script


def definition(version: CallScriptVersion) -> ParsedScript:
    """The parsed steps of a stored version (cached: versions never change)."""
    return _parse_cached(version.id, version.sha256, version.markdown, version.script.slug)


@lru_cache(maxsize=128)
def _parse_cached(_version_id: int, _sha: str, text: str, slug: str) -> ParsedScript:
    return parse_script_text(text, f"{slug}.md", slug=slug)


@lru_cache(maxsize=1024)
def _html(text: str) -> str:
    return render_markdown(text).html if text else ""


SLOT_RE = re.compile(r"kbslot(\d+)x")


@lru_cache(maxsize=1024)
def _say_template(text: str) -> tuple[str, tuple[str, ...]]:
    """Words to say rendered once, each placeholder left as a slot to fill per request."""
    found: list[str] = []

    def slot(match: re.Match) -> str:
        if "\n\n" in match["text"]:
            return match[0]
        found.append(match["text"])
        return f"kbslot{len(found) - 1}x"

    return _html(PLACEHOLDER_RE.sub(slot, text)), tuple(found)


def say_html(text: str, answers: Answers) -> str:
    """A step's words to say as HTML, with every placeholder that can be answered filled in
    and the rest marked (kb.callscripts.fill says what answers what)."""
    template, found = _say_template(text)
    return SLOT_RE.sub(lambda m: str(answers.html(found[int(m[1])])), template)


def clean_values(script: ParsedScript, args: Mapping[str, str]) -> dict[str, str]:
    """The captured values in a request: only the script's fields, trimmed and capped."""
    values = {}
    for key, item in script.fields.items():
        value = (args.get(key) or "").replace("\r\n", "\n").strip()
        if value:
            limit = LONG_VALUE_CHARS if item.long else SHORT_VALUE_CHARS
            values[key] = value[:limit] if item.long else " ".join(value.split())[:limit]
    return values


def parse_path(text: str) -> list[str]:
    """The step ids in a ``path`` query value ("opening,identity")."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def open_step(
    slug: str,
    step_id: str | None,
    path: list[str],
    args: Mapping[str, str],
    agent_name: str = "",
) -> PlayerState:
    """One step of a call: raises ScriptNotFound, StepNotFound, or PathInvalid with a fix.
    ``agent_name`` fills ``[your name]`` and goes in the call summary."""
    script = get_script(slug)
    parsed = definition(script.current_version)
    step_id = step_id or parsed.start
    step = parsed.steps.get(step_id)
    if step is None:
        raise StepNotFound(step_id)
    if len(path) > MAX_PATH_STEPS or not is_valid_path(parsed, path, step_id):
        raise PathInvalid(shortest_path(parsed, step_id) or [])
    values = clean_values(parsed, args)
    here = {f.key for f in step.capture}
    route = [*path, step_id]
    trail = [(parsed.steps[a], choice_between(parsed, a, b).label)
             for a, b in pairwise(route)]
    answers = Answers(parsed, values, route, agent_name, editable=here)
    parts = None
    if step.end:
        parts = {
            "head": "\n".join(summary_head(parsed, path, step_id, script.current_version.number,
                                           when=format_local(utcnow()), agent=agent_name)),
            "items": summary_items(parsed, route, values),
        }
    return PlayerState(
        script=script,
        definition=parsed,
        step=step,
        path=path,
        values=values,
        say_html=say_html(step.say, answers),
        guidance_html=_html(step.guidance),
        alerts_html=_html(step.alerts),
        cited=cited_articles(step),
        trail=trail,
        summary="\n".join([parts["head"], *summary_details(parts["items"], values)])
        if parts else None,
        summary_parts=parts,
        carried={k: v for k, v in values.items() if k not in here},
        intro_html=_html(parsed.intro) if not path else "",
        decided=answers.sets,
    )


def walked_through(slug: str, step_id: str, path_text: str, user) -> CallScript:
    """Say that ``user`` walked the script from its start to the end step ``step_id`` along
    ``path_text``: checked against the current version, then sent as ``script_walked``
    (receivers keep it as evidence; the caller commits). ScriptNotFound, StepNotFound, or
    Invalid("path", ...) when the step is not an end or the path is not the script's."""
    script = get_script(slug)
    if script.archived_at is not None and not user.has_role("manager"):
        raise ScriptNotFound(slug)
    parsed = definition(script.current_version)
    step = parsed.steps.get(step_id)
    if step is None:
        raise StepNotFound(step_id)
    if not step.end:
        raise Invalid("path", "Only an end step of the script can be the end of a "
                              "walk-through; nothing was recorded.")
    path = parse_path(path_text)
    if len(path) > MAX_PATH_STEPS or not is_valid_path(parsed, path, step_id):
        raise Invalid("path", "That route is not one the script allows (it may have changed "
                              "since you started). Walk it again from the start; nothing was "
                              "recorded.")
    script_walked.send(script, user=user, version=script.current_version.number,
                       end_step=step_id, path=path)
    return script


def cited_articles(step: Step) -> list[Cited]:
    """The articles a step cites, with their quick answers, in the order cited."""
    if not step.cites:
        return []
    slugs = [c.slug for c in step.cites]
    found = {
        a.slug: a for a in db.session.scalars(db.select(Article).where(Article.slug.in_(slugs)))
    }
    return [
        Cited(c.slug, found[c.slug].title, found[c.slug].summary, c.fragment)
        for c in step.cites
        if c.slug in found
    ]


# ----- review -------------------------------------------------------------------------


def changed_citations(
    script: CallScript, current: Mapping[str, int] | None = None
) -> list[ChangedCitation]:
    """Cited articles with a version newer than the one the script was last reviewed against."""
    current = current if current is not None else article_versions()
    reviewed = script.reviewed_citations or {}
    cited = script.current_version.cited_slugs if script.current_version else []
    changed = [
        (slug, reviewed.get(slug), current[slug])
        for slug in cited
        if slug in current and (reviewed.get(slug) or 0) < current[slug]
    ]
    if not changed:
        return []
    rows = db.session.execute(
        db.select(Article.slug, Article.title).where(Article.slug.in_([c[0] for c in changed]))
    )
    titles = {slug: title for slug, title in rows}
    return [ChangedCitation(slug, titles.get(slug, slug), old, new) for slug, old, new in changed]


def scripts_needing_review() -> list[tuple[CallScript, list[ChangedCitation]]]:
    """Scripts with a cited article changed since their last review, by title."""
    current = article_versions()
    found = []
    for script in db.session.scalars(
        db.select(CallScript)
        .options(joinedload(CallScript.current_version))
        .where(CallScript.current_version_id.is_not(None))
        .order_by(CallScript.title)
    ):
        changed = changed_citations(script, current)
        if changed:
            found.append((script, changed))
    return found


def mark_reviewed(slug: str, user: User) -> CallScript:
    """Record that a manager checked the script against its cited articles' current versions."""
    require(user, "manager", "Only managers can mark a script as reviewed.")
    script = get_script(slug)
    current = article_versions()
    before = dict(script.reviewed_citations or {})
    after = {s: current[s] for s in script.current_version.cited_slugs if s in current}
    script.reviewed_citations = after
    script.reviewed_by_id = user.id
    script.reviewed_at = utcnow()
    audit.record(user, "callscript.reviewed", script,
                 {"version": script.current_version.number, "before": before, "after": after})
    return script  # the caller commits



def export_scripts(directory: Path) -> int:
    """Write each script's current version back out as ``<slug>.md``; returns the count."""
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for script in list_scripts():
        (directory / f"{script.slug}.md").write_text(script.current_version.markdown,
                                                      encoding="utf-8")
        count += 1
    return count

"""Call script files: Markdown with front matter, parsed into steps and validated.

Pure: no Flask, no database. The format is documented in ``scripts/README.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from kb.callscripts.fill import unfillable_placeholders
from kb.callscripts.graph import graph_problems
from kb.content.loader import (
    MAX_CHARS,
    TAGS_MESSAGE,
    ContentError,
    parse_tags,
    read_text,
    slug_message,
    split_front_matter,
    too_long,
    unknown_keys_message,
)
from kb.content.render import SLUG_LINK

FRONT_MATTER_KEYS = {
    "title", "slug", "category", "tags", "summary", "owner", "start", "change_summary",
}
# /scripts/review is the review list, so no script may be called "review".
RESERVED_SLUGS = {"review"}
# Query-string names the player uses itself, so no capture field may take them.
RESERVED_FIELDS = {"path", "slug", "step_id"}
MAX_CHOICES = 9  # keys 1-9 pick them
MAX_FIELDS = 20
STANDARD_FIELDS: dict[str, tuple[str, bool]] = {  # key -> (label, long text?)
    "caller_name": ("Caller's name", False),
    "address": ("Address", False),
    "property_reference": ("Property reference", False),
    "repair_description": ("Repair description", True),
    "callback_number": ("Call-back number", False),
}

STEP_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
FIELD_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
HEADING_RE = re.compile(r"^##(?!#)(?P<text>.*)$")
ATTRS_RE = re.compile(r"^(?P<title>.*?)\s*\{(?P<attrs>[^{}]*)\}\s*$")
CHOICE_RE = re.compile(
    r"^ {0,3}(?:[-*+]|\d{1,2}[.)])\s+\[(?P<label>[^\]]*)\]\(#(?P<target>[^)\s]*)\)\s*$"
)
LINK_RE = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<href>[^)\s]*)\)")
SEE_ITEM_RE = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<href>[^)\s]*)\)|(?P<bare>[^,\s]+)")
CAPTURE_RE = re.compile(r"^capture:(?P<rest>.*)$", re.IGNORECASE)
SEE_RE = re.compile(r"^see:(?P<rest>.*)$", re.IGNORECASE)
DUE_RE = re.compile(r"^due:(?P<rest>.*)$", re.IGNORECASE)
SET_RE = re.compile(r"^set:(?P<rest>.*)$", re.IGNORECASE)
SET_ITEM_RE = re.compile(r"^(?P<key>[^=\s]+)\s*=\s*(?P<value>.*)$")
MAX_SET_CHARS = 200
# A "Due:" name: a response standard's channel ("Complaints") or key ("repair-urgent").
DUE_NAME_RE = re.compile(r"^\w[\w &'/-]{0,59}$")
FIELD_ITEM_RE = re.compile(r"^ {0,3}[-*+]\s+(?P<key>[^:\s]+)\s*(?::\s*(?P<label>.*))?$")
FENCE_RE = re.compile(r"^ {0,3}(```|~~~)")
LONG_SUFFIX = "(long)"


class ScriptError(ContentError):
    """One problem in a script file, naming the file, the step and, if known, the line."""

    def __init__(
        self, path: Path | str, message: str, line: int | None = None, step: str | None = None
    ):
        self.step = step
        detail = f"step '{step}': {message}" if step else message
        super().__init__(path, detail, line)


class ScriptInvalid(ContentError):
    """A script file with one or more problems; ``errors`` lists each of them."""

    def __init__(self, path: Path | str, errors: list[ContentError]):
        self.errors = errors
        count = len(errors)
        super().__init__(path, f"{count} problem{'s' if count != 1 else ''}: "
                         + "; ".join(e.message for e in errors))


@dataclass(frozen=True)
class CaptureField:
    key: str
    label: str
    long: bool = False


@dataclass(frozen=True)
class SetValue:
    """A ``Set: key = value`` line: reaching the step gives ``key`` this value."""

    key: str
    value: str
    line: int


@dataclass(frozen=True)
class Choice:
    label: str
    target: str
    line: int


@dataclass(frozen=True)
class Citation:
    slug: str
    label: str = ""  # the link text, if the script gave one
    fragment: str = ""  # e.g. "#out-of-hours"


@dataclass
class Step:
    id: str
    title: str
    line: int
    say: str = ""  # Markdown: the words to say (the step's blockquotes)
    guidance: str = ""  # Markdown: what the agent should do or check
    alerts: str = ""  # Markdown: admonitions, shown above everything else
    choices: list[Choice] = field(default_factory=list)
    capture: list[CaptureField] = field(default_factory=list)
    cites: list[Citation] = field(default_factory=list)  # "See:" lines, shown beside
    # "Due:" lines: channels or keys of response standards whose dates for now are shown.
    due: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # article slugs linked in the text
    # "Set:" lines: values the call takes on once it reaches this step (e.g. the priority).
    sets: list[SetValue] = field(default_factory=list)
    end: bool = False


@dataclass
class ParsedScript:
    slug: str
    title: str
    category: str
    summary: str
    start: str
    steps: dict[str, Step]  # in file order
    source: str  # the whole file, as stored in each version
    path: str
    intro: str = ""
    tags: list[str] = field(default_factory=list)
    owner: str = ""
    change_summary: str = ""
    # Problems worth telling the author that do not stop the import (e.g. a placeholder
    # that names a field no route to its step captures).
    warnings: list[str] = field(default_factory=list)

    @property
    def cited_slugs(self) -> list[str]:
        """Every article the script depends on: "See:" citations and links in the text."""
        found = {c.slug for s in self.steps.values() for c in s.cites}
        found.update(slug for s in self.steps.values() for slug in s.links)
        return sorted(found)

    @property
    def fields(self) -> dict[str, CaptureField]:
        """Every capture field in the script, first declaration wins."""
        out: dict[str, CaptureField] = {}
        for step in self.steps.values():
            for item in step.capture:
                out.setdefault(item.key, item)
        return out

    @property
    def set_keys(self) -> list[str]:
        """Every name a "Set:" line gives a value to, in file order."""
        return list(dict.fromkeys(s.key for step in self.steps.values() for s in step.sets))


# ----- parsing ------------------------------------------------------------------------


def parse_script(
    path: Path, root: Path | None = None, known_articles: set[str] | None = None
) -> ParsedScript:
    """Read and validate one script file; raises ContentError (ScriptInvalid for many)."""
    text = read_text(path)
    shown = path.relative_to(root) if root else path
    return parse_script_text(text, shown, known_articles=known_articles, slug=None)


def parse_script_text(
    text: str,
    path: Path | str,
    *,
    known_articles: set[str] | None = None,
    slug: str | None = None,
) -> ParsedScript:
    """Parse and validate script source; ``known_articles`` None skips the citation check."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    meta, _body, body_line = split_front_matter(Path(path), text)
    errors: list[ContentError] = []
    info = _front_matter(path, meta, slug, errors)
    lines = text.split("\n")[body_line - 1 :]
    intro, steps = _split_steps(path, lines, body_line, errors)
    if not steps and not errors:
        errors.append(ScriptError(path, "the script has no steps: write each step as a "
                                  "heading '## Title {#step-id}'"))
    errors += [ScriptError(path, message, line, step)
               for message, line, step in graph_problems(info["start"], steps)]
    _check_fields(path, steps, errors)
    if known_articles is not None:
        _check_citations(path, steps, known_articles, errors)
    if errors:
        raise ScriptInvalid(path, errors)
    parsed = ParsedScript(
        steps=steps, source=text, path=str(path), intro=intro.strip(), **info
    )
    parsed.warnings = [str(ScriptError(path, message, line, step))
                       for message, line, step in unfillable_placeholders(parsed)]
    return parsed


def _front_matter(path, meta: dict, slug: str | None, errors: list) -> dict:
    unknown = unknown_keys_message(meta, FRONT_MATTER_KEYS)
    if unknown:
        errors.append(ScriptError(path, unknown))
    slug = slug or _meta_text(meta, "slug") or Path(str(path)).stem
    if slug_message(slug):
        errors.append(ScriptError(path, slug_message(slug)))
    elif slug in RESERVED_SLUGS:
        errors.append(ScriptError(path, f"slug {slug!r} is reserved; choose another name"))
    title = _meta_text(meta, "title")
    if not title:
        errors.append(ScriptError(path, "front matter has no title"))
    start = _meta_text(meta, "start")
    if not start:
        errors.append(ScriptError(path, "front matter has no start step: add 'start: <step id>'"))
    tags = parse_tags(meta.get("tags"))
    if tags is None:
        errors.append(ScriptError(path, TAGS_MESSAGE))
        tags = []
    for key in ("title", "category", "summary", "owner", "start", "change_summary"):
        value = meta.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
            errors.append(ScriptError(path, f"{key} must be text"))
    for key, text in ({key: _meta_text(meta, key) for key in MAX_CHARS} | {"slug": slug}).items():
        if len(text) > MAX_CHARS[key]:
            errors.append(ScriptError(path, too_long(key, text)))
    return {
        "slug": slug,
        "title": title,
        "category": _meta_text(meta, "category") or "Call scripts",
        "summary": _meta_text(meta, "summary"),
        "start": start,
        "tags": tags,
        "owner": _meta_text(meta, "owner"),
        "change_summary": _meta_text(meta, "change_summary"),
    }


def _meta_text(meta: dict, key: str) -> str:
    value = meta.get(key)
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return " ".join(str(value).split())


def _split_steps(path, lines: list[str], first_line: int, errors: list) -> tuple[str, dict]:
    """Cut the body at '## ' headings; returns the intro text and the parsed steps."""
    intro: list[str] = []
    chunks: list[tuple[str, int, list[tuple[int, str]]]] = []
    in_fence = False
    for number, line in enumerate(lines, start=first_line):
        if FENCE_RE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else HEADING_RE.match(line)
        if heading:
            chunks.append((heading["text"].strip(), number, []))
        elif chunks:
            chunks[-1][2].append((number, line))
        else:
            intro.append(line)
    steps: dict[str, Step] = {}
    for heading, number, body in chunks:
        step = _parse_heading(path, heading, number, errors)
        if step is None:
            continue
        if step.id in steps:
            errors.append(ScriptError(path, f"duplicate step id (first used on line "
                                      f"{steps[step.id].line})", number, step.id))
            continue
        _parse_body(path, step, body, errors)
        steps[step.id] = step
    return "\n".join(intro), steps


def _parse_heading(path, heading: str, line: int, errors: list) -> Step | None:
    match = ATTRS_RE.match(heading)
    if not match:
        errors.append(ScriptError(path, f"step heading '## {heading}' has no id; write it "
                                  "as '## Title {#step-id}'", line))
        return None
    title, step_id, end = match["title"].strip(), "", False
    for token in match["attrs"].split():
        if token.startswith("#") and not step_id:
            step_id = token[1:]
        elif token == ".end":
            end = True
        else:
            errors.append(ScriptError(path, f"unknown heading attribute {token!r}; use "
                                      "'{#step-id}' or '{#step-id .end}'", line))
    if not STEP_ID_RE.match(step_id):
        errors.append(ScriptError(path, f"step id {step_id!r} must be lower-case letters, "
                                  "digits and hyphens", line))
        return None
    if not title:
        errors.append(ScriptError(path, "the step heading has no title", line, step_id))
    return Step(id=step_id, title=title, line=line, end=end)


def _parse_body(path, step: Step, body: list[tuple[int, str]], errors: list) -> None:
    """Sort a step's lines into words to say, guidance, alerts, choices, fields, citations."""
    say: list[str] = []
    guidance: list[str] = []
    alerts: list[str] = []
    in_fence = in_alert = False
    index = 0
    while index < len(body):
        number, line = body[index]
        index += 1
        stripped = line.strip()
        if FENCE_RE.match(line):
            in_fence = not in_fence
        if in_fence or FENCE_RE.match(line):
            guidance.append(line)
            continue
        if in_alert:
            if not stripped or line.startswith(("    ", "\t")):
                alerts.append(line)
                continue
            in_alert = False
        if line.startswith("!!!"):
            in_alert = True
            alerts.append(line)
            continue
        if line.startswith(">"):
            text = line[1:]
            say.append(text[1:] if text.startswith(" ") else text)
            _scan_links(path, step, number, text, errors)
            continue
        if say and say[-1] != "" and not stripped:
            say.append("")
        choice = CHOICE_RE.match(line)
        if choice:
            label = " ".join(choice["label"].split())
            if not label:
                errors.append(ScriptError(path, "a choice has no label", number, step.id))
            step.choices.append(Choice(label, choice["target"], number))
            continue
        capture = CAPTURE_RE.match(stripped)
        if capture:
            rest, before = capture["rest"].strip(), len(step.capture)
            if rest:
                for key in (k.strip() for k in rest.split(",")):
                    _add_field(path, step, number, key, None, errors)
            else:
                while (index < len(body) and FIELD_ITEM_RE.match(body[index][1])
                       and not CHOICE_RE.match(body[index][1])):
                    item = FIELD_ITEM_RE.match(body[index][1])
                    _add_field(path, step, body[index][0], item["key"], item["label"], errors)
                    index += 1
                if len(step.capture) == before:
                    errors.append(ScriptError(path, "'Capture:' lists no fields", number,
                                              step.id))
            continue
        see = SEE_RE.match(stripped)
        if see:
            _add_citations(path, step, number, see["rest"].strip(), errors)
            continue
        due = DUE_RE.match(stripped)
        if due:
            _add_due(path, step, number, due["rest"], errors)
            continue
        setting = SET_RE.match(stripped)
        if setting:
            _add_set(path, step, number, setting["rest"].strip(), errors)
            continue
        guidance.append(line)
        _scan_links(path, step, number, line, errors)
    step.say = "\n".join(say).strip()
    step.guidance = "\n".join(guidance).strip()
    step.alerts = "\n".join(alerts).strip()
    if not (step.say or step.guidance or step.alerts or step.choices or step.capture
            or step.cites or step.due):
        errors.append(ScriptError(path, "the step has no words to say and no guidance",
                                  step.line, step.id))
    if step.end and step.choices:
        errors.append(ScriptError(path, "the step is marked as an end ('.end') but has "
                                  "choices; remove one or the other", step.line, step.id))
    if len(step.choices) > MAX_CHOICES:
        errors.append(ScriptError(path, f"the step has {len(step.choices)} choices; at most "
                                  f"{MAX_CHOICES} (keys 1-9 pick them)", step.line, step.id))
    targets = [c.target for c in step.choices]
    for target in sorted({t for t in targets if targets.count(t) > 1}):
        errors.append(ScriptError(path, f"two choices lead to step '{target}'; the call "
                                  "summary could not tell them apart", step.line, step.id))


def _scan_links(path, step: Step, number: int, text: str, errors: list) -> None:
    for link in LINK_RE.finditer(text):
        href = link["href"]
        if href.startswith("#"):
            errors.append(ScriptError(
                path, f"link to step '{href}' must be a choice on its own list line, "
                "e.g. '- [Yes](#next-step)'", number, step.id))
            continue
        match = SLUG_LINK.match(href)
        if match and match["slug"] not in step.links:
            step.links.append(match["slug"])


def _add_field(path, step: Step, number: int, key: str, label: str | None, errors) -> None:
    label = (label or "").strip()
    long = label.lower().endswith(LONG_SUFFIX)
    if long:
        label = label[: -len(LONG_SUFFIX)].strip()
    if not FIELD_KEY_RE.match(key) or key in RESERVED_FIELDS:
        errors.append(ScriptError(path, f"capture field {key!r} must be lower-case letters, "
                                  "digits and underscores (and not 'path')", number, step.id))
        return
    if any(f.key == key for f in step.capture):
        errors.append(ScriptError(path, f"capture field {key!r} is listed twice", number,
                                  step.id))
        return
    standard = STANDARD_FIELDS.get(key)
    if standard and not label:
        label, long = standard[0], standard[1] or long
    step.capture.append(CaptureField(key, label or key.replace("_", " ").capitalize(), long))


def _add_citations(path, step: Step, number: int, rest: str, errors: list) -> None:
    items = [
        (m["href"], m["text"].strip()) if m["href"] is not None else (m["bare"], "")
        for m in SEE_ITEM_RE.finditer(rest)
    ]
    if not items:
        errors.append(ScriptError(path, "'See:' names no articles", number, step.id))
    for href, label in items:
        match = SLUG_LINK.match(href)
        if not match:
            errors.append(ScriptError(path, f"'See:' target {href!r} is not an article slug "
                                      "(e.g. repair-priorities)", number, step.id))
            continue
        if all(c.slug != match["slug"] for c in step.cites):
            step.cites.append(Citation(match["slug"], label, match["fragment"] or ""))


def _add_due(path, step: Step, number: int, rest: str, errors: list) -> None:
    """Keep the names a "Due:" line gives; which standards they match is for the page to
    find out (standards change on the site, the script does not)."""
    names = [" ".join(name.split()) for name in rest.split(",") if name.strip()]
    if not names:
        errors.append(ScriptError(path, "'Due:' names no standards", number, step.id))
    for name in names:
        if not DUE_NAME_RE.match(name):
            errors.append(ScriptError(path, f"'Due:' name {name!r} is not a channel or a "
                                      "standard's key (e.g. 'Due: Complaints' or "
                                      "'Due: repair-urgent')", number, step.id))
        elif name.lower() not in {n.lower() for n in step.due}:
            step.due.append(name)


def _add_set(path, step: Step, number: int, rest: str, errors: list) -> None:
    """One "Set: key = value" line."""
    item = SET_ITEM_RE.match(rest)
    if not item or not item["value"].strip():
        errors.append(ScriptError(path, "write 'Set:' as 'Set: name = value', e.g. "
                                  "'Set: priority = Emergency'", number, step.id))
        return
    key, value = item["key"], " ".join(item["value"].split())
    if not FIELD_KEY_RE.match(key) or key in RESERVED_FIELDS:
        errors.append(ScriptError(path, f"'Set:' name {key!r} must be lower-case letters, "
                                  "digits and underscores (and not 'path')", number, step.id))
    elif any(s.key == key for s in step.sets):
        errors.append(ScriptError(path, f"'Set:' gives {key!r} a value twice", number,
                                  step.id))
    elif len(value) > MAX_SET_CHARS:
        errors.append(ScriptError(path, f"the value for {key!r} is {len(value)} characters; "
                                  f"the most is {MAX_SET_CHARS}", number, step.id))
    else:
        step.sets.append(SetValue(key, value, number))


# ----- validation (the graph checks are in kb.callscripts.graph) ---------------------


def _check_fields(path, steps: dict[str, Step], errors: list) -> None:
    keys = {f.key for s in steps.values() for f in s.capture}
    if len(keys) > MAX_FIELDS:
        errors.append(ScriptError(path, f"the script captures {len(keys)} fields; the most "
                                  f"is {MAX_FIELDS}"))
    for step in steps.values():
        for item in step.sets:
            if item.key in keys:  # one name, one source: typed by the agent or set by a step
                errors.append(ScriptError(path, f"'Set:' name {item.key!r} is also a capture "
                                          "field; use another name", item.line, step.id))


def _check_citations(path, steps: dict[str, Step], known: set[str], errors: list) -> None:
    for step in steps.values():
        slugs = [c.slug for c in step.cites] + [s for s in step.links]
        for slug in dict.fromkeys(slugs):
            if slug not in known:
                errors.append(ScriptError(path, f"cites article '{slug}', which does not "
                                          "exist", step.line, step.id))

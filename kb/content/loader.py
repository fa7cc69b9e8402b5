"""Reading content files: Markdown with YAML front matter, validated without an app.

The one front-matter parser: articles here, call scripts in ``kb.callscripts.format``
build on ``split_front_matter``, ``parse_tags``, ``unknown_keys_message`` and
``slug_message``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,118}[a-z0-9]$|^[a-z0-9]$")
MAX_FILE_BYTES = 1024 * 1024
# The longest each front-matter field may be: the database columns' sizes, which
# PostgreSQL enforces (SQLite would quietly store more).
MAX_CHARS = {"slug": 120, "title": 200, "category": 80, "owner": 120, "change_summary": 500}
FRONT_MATTER_KEYS = {
    "title", "slug", "category", "tags", "summary", "owner", "review_cycle_months",
    "requires_signoff", "change_summary", "questions", "standards", "updated",
}
# ``updated:`` is the date the content last changed, as its author says (YYYY-MM-DD).
UPDATED_MESSAGE = "updated must be a date written YYYY-MM-DD, e.g. updated: 2026-03-05"
EARLIEST_UPDATED = date(2000, 1, 1)
MAX_QUESTIONS = 10
# ``standards:`` names response standards by channel ("Complaints"), or says "all". A
# channel with a comma in its name can be given as an item of a list.
STANDARD_NAME_RE = re.compile(r"^\w[\w &',/-]{0,59}$")
MAX_STANDARD_NAMES = 20
STANDARDS_MESSAGE = ("standards must be 'all', or channels of the response standards, "
                     "e.g. Complaints or [Complaints, Repairs]")
MAX_CHOICES = 6
# The summary is the article's one quick answer (the page shows it in its own box): a body
# paragraph or heading that starts "Quick answer" repeats it, in words that drift apart.
QUICK_ANSWER_RE = re.compile(r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*|__)?[ \t]*quick answer\b",
                             re.IGNORECASE | re.MULTILINE)
QUICK_ANSWER_WARNING = ("the body has a 'Quick answer' paragraph: put the quick answer in "
                        "the front matter's summary only (the page shows it)")


class ContentError(Exception):
    """A content file that cannot be imported; says which file and, if known, which line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


@dataclass
class ParsedArticle:
    slug: str
    title: str
    category: str
    summary: str
    body: str
    path: str
    tags: list[str] = field(default_factory=list)
    owner: str = ""
    review_cycle_months: int = 12
    requires_signoff: bool = False
    change_summary: str = ""
    # Comprehension questions asked before signing: [{question, choices, answer}]; None
    # (not given) leaves a document's questions as they are.
    questions: list[dict] | None = None
    # Response standards the page shows with their dates for now: channels, or ["all"]
    # (which sets are in force); [] none. None (not given, e.g. by the editor) leaves a
    # document's as they are.
    standards: list[str] | None = None
    # The date the content says it last changed (``updated:``); None when not given (the
    # editor: its versions are dated by when they were made).
    content_date: date | None = None
    # Problems worth saying that do not stop the import (the import report lists them).
    warnings: list[str] = field(default_factory=list)


def read_text(path: Path) -> str:
    """A content file's text; refuses huge, binary or non-UTF-8 files with a clear message."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ContentError(path, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
    data = path.read_bytes()
    if b"\x00" in data:
        raise ContentError(path, "file looks binary (it contains NUL bytes), not Markdown")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ContentError(
            path, f"not valid UTF-8 (byte 0x{data[error.start]:02x}); save as UTF-8", line
        ) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def split_front_matter(path: Path, text: str) -> tuple[dict, str, int]:
    """Split ``---`` YAML front matter from the body; returns (meta, body, body_line)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ContentError(path, "file must start with '---' and YAML front matter", 1)
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() in {"---", "..."}:
            end = number
            break
    else:
        raise ContentError(path, "front matter is not closed with a '---' line", 1)
    try:
        meta = yaml.safe_load("\n".join(lines[1 : end - 1])) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ContentError(path, f"broken front matter: {problem}", line) from None
    except ValueError as error:
        # YAML reads 2026-02-30 as a date and fails to build it.
        raise ContentError(path, f"broken front matter: a date that does not exist ({error}); "
                                 "write dates as YYYY-MM-DD") from None
    if not isinstance(meta, dict):
        raise ContentError(path, "front matter must be 'key: value' lines", 2)
    return meta, "\n".join(lines[end:]).strip() + "\n", end + 1


TAGS_MESSAGE = "tags must be a list of words, e.g. [repairs, leak]"


def parse_tags(value: object) -> list[str] | None:
    """Front-matter tags (a list, or words separated by commas) cleaned; None if malformed."""
    tags = value or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    if not isinstance(tags, list) or not all(isinstance(t, str | int) for t in tags):
        return None
    return [str(t).strip() for t in tags if str(t).strip()]


def unknown_keys_message(meta: dict, allowed: set[str]) -> str | None:
    """The message naming front-matter keys outside ``allowed``, or None."""
    unknown = sorted(set(map(str, meta)) - allowed)
    return f"unknown front matter key(s): {', '.join(unknown)}" if unknown else None


def slug_message(slug: str) -> str | None:
    """Why ``slug`` cannot name a document, or None when it can."""
    if not SLUG_RE.match(slug):
        return f"slug {slug!r} must be lower-case letters, digits and hyphens"
    return None


def parse_article(path: Path, root: Path | None = None,
                  today: date | None = None) -> ParsedArticle:
    """Parse and validate one article file (``today``: the latest date ``updated:`` may
    give; the machine's date when not said)."""
    text = read_text(path)
    meta, body, _ = split_front_matter(path, text)
    unknown = unknown_keys_message(meta, FRONT_MATTER_KEYS)
    if unknown:
        raise ContentError(path, unknown)

    slug = _text(path, meta, "slug", required=False) or path.stem
    if len(slug) > MAX_CHARS["slug"]:
        raise ContentError(path, too_long("slug", slug))
    if slug_message(slug):
        raise ContentError(path, slug_message(slug))
    title = _text(path, meta, "title", required=True)
    category = _text(path, meta, "category", required=False) or "General"
    tags = parse_tags(meta.get("tags"))
    if tags is None:
        raise ContentError(path, TAGS_MESSAGE)
    cycle = meta.get("review_cycle_months", 12)
    if isinstance(cycle, bool) or not isinstance(cycle, int) or not 1 <= cycle <= 60:
        raise ContentError(path, "review_cycle_months must be a whole number from 1 to 60")
    signoff = meta.get("requires_signoff", False)
    if not isinstance(signoff, bool):
        raise ContentError(path, "requires_signoff must be true or false")
    if not body.strip():
        raise ContentError(path, "the article has no body text")
    questions = None
    if "questions" in meta:
        questions, problem = parse_questions(meta["questions"])
        if problem:
            raise ContentError(path, problem)
    standards = parse_standards(meta.get("standards"))
    if standards is None:
        raise ContentError(path, STANDARDS_MESSAGE)
    content_date = None
    if meta.get("updated") is not None:
        content_date, problem = parse_updated(meta["updated"], today or date.today())
        if problem:
            raise ContentError(path, problem)
    return ParsedArticle(
        slug=slug,
        title=title,
        category=category,
        summary=_text(path, meta, "summary", required=False),
        body=body,
        path=str(path.relative_to(root) if root else path),
        tags=tags,
        owner=_text(path, meta, "owner", required=False),
        review_cycle_months=cycle,
        requires_signoff=signoff,
        change_summary=_text(path, meta, "change_summary", required=False),
        questions=questions,
        standards=standards,
        content_date=content_date,
        warnings=[QUICK_ANSWER_WARNING] if QUICK_ANSWER_RE.search(body) else [],
    )


def parse_updated(value: object, today: date) -> tuple[date | None, str | None]:
    """Front-matter ``updated:`` as a date, not after ``today``; returns (date, problem)."""
    if isinstance(value, datetime):  # YAML reads "2026-03-05 10:00:00" as a time
        return None, UPDATED_MESSAGE + " (a date without a time)"
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return None, f"{UPDATED_MESSAGE}; {text!r} is not"
        try:
            value = date.fromisoformat(text)
        except ValueError:
            return None, f"updated: {text} is not a date that exists"
    if not isinstance(value, date):
        return None, UPDATED_MESSAGE
    if value > today:
        return None, (f"updated: {value.isoformat()} is in the future; give the date the "
                      f"content last changed (today is {today.isoformat()} at the latest)")
    if value < EARLIEST_UPDATED:
        return None, (f"updated: {value.isoformat()} is before "
                      f"{EARLIEST_UPDATED.year}; check the year")
    return value, None


def parse_standards(value: object) -> list[str] | None:
    """Front-matter ``standards:`` tidied: ["all"], channel names each once, or [] when
    not given; None when malformed."""
    if value is None or value == "" or value == []:
        return []
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    cleaned: list[str] = []
    for name in (" ".join(n.split()) for n in names):
        if not STANDARD_NAME_RE.match(name):
            return None
        if name.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(name)
    if "all" in {n.lower() for n in cleaned}:
        return ["all"] if len(cleaned) == 1 else None
    return cleaned if len(cleaned) <= MAX_STANDARD_NAMES else None


def parse_questions(value: object) -> tuple[list[dict], str | None]:
    """Comprehension questions from front matter, tidied: a list of {question, choices,
    answer} with the answer one of the choices; returns (questions, problem or None)."""
    try:
        return clean_questions(value), None
    except QuestionsInvalid as error:
        if error.answer:
            return [], f"question {error.question!r}: the answer must be one of its choices"
        usage = ("questions must be a list of {question, choices, answer}, the answer one "
                 f"of 2 to {MAX_CHOICES} choices (at most {MAX_QUESTIONS} questions)")
        return [], f"{usage}: {error.reason}"


class QuestionsInvalid(ValueError):
    """Comprehension questions that break the rule; ``reason`` says how in plain words."""

    def __init__(self, reason: str, question: str = "", *, answer: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.question = question
        self.answer = answer  # the only problem is an answer that is not a choice


def clean_questions(value: object) -> list[dict]:
    """The one rule for comprehension questions (front matter, editor and API alike): at
    most MAX_QUESTIONS, each with text, 2 to MAX_CHOICES different choices and the answer
    one of them. Returns them tidied; raises QuestionsInvalid naming the question."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise QuestionsInvalid("the questions must be a list")
    if len(value) > MAX_QUESTIONS:
        raise QuestionsInvalid(f"there are {len(value)} questions; the most is "
                               f"{MAX_QUESTIONS}")
    questions = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) != {"question", "choices", "answer"}:
            raise QuestionsInvalid(f"question {number} must have exactly a question, its "
                                   "choices and the answer")
        question, choices, answer = item["question"], item["choices"], item["answer"]
        if not isinstance(question, str) or not question.strip():
            raise QuestionsInvalid(f"question {number} has no text")
        if len(question) > 500:
            raise QuestionsInvalid(f"question {number} is {len(question)} characters; the "
                                   "most is 500", question)
        question = " ".join(question.split())
        if not isinstance(choices, list) or not 2 <= len(choices) <= MAX_CHOICES:
            count = len(choices) if isinstance(choices, list) else 0
            raise QuestionsInvalid(f"question {number} (“{question}”) has {count} "
                                   f"choice{'' if count == 1 else 's'}; give 2 to "
                                   f"{MAX_CHOICES}", question)
        if not all(isinstance(c, str | int) and str(c).strip()
                   for c in choices):
            raise QuestionsInvalid(f"question {number} (“{question}”) has an empty choice",
                                   question)
        choices = [" ".join(str(c).split())[:200] for c in choices]
        if len(set(choices)) != len(choices):
            raise QuestionsInvalid(f"question {number} (“{question}”) lists the same choice "
                                   "twice", question)
        answer = " ".join(str(answer).split())
        if answer not in choices:
            raise QuestionsInvalid(f"question {number} (“{question}”): the answer must be "
                                   "one of its choices", question, answer=True)
        questions.append({"question": question, "choices": choices, "answer": answer})
    return questions


def _text(path: Path, meta: dict, key: str, *, required: bool) -> str:
    value = meta.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ContentError(path, f"front matter has no {key}")
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ContentError(path, f"{key} must be text")
    text = " ".join(str(value).split())
    if len(text) > MAX_CHARS.get(key, len(text)):
        raise ContentError(path, too_long(key, text))
    return text


def too_long(key: str, text: str) -> str:
    """The message for a front-matter field over its limit."""
    return f"{key} is {len(text)} characters; the most is {MAX_CHARS[key]}"


def article_files(directory: Path) -> list[Path]:
    """Markdown files under ``directory`` (README files excluded), in a stable order."""
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.rglob("*.md")
        if p.is_file() and p.name.lower() != "readme.md" and not p.name.startswith(".")
    )

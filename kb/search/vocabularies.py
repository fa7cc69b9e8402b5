"""Search vocabularies kept in the database: checking, saving, seeding, export and the
per-process copy every search reads (refreshed by a version check at most once a second)."""

from __future__ import annotations

import difflib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app

from kb.core import audit
from kb.extensions import db
from kb.models import SearchVocabulary, User, utcnow
from kb.search.english import is_common_english
from kb.search.intent import Match, Recogniser, VocabularyError, parse_vocabulary
from kb.search.synonyms import Synonyms

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
NAMES = ("crisis", "emergency", "synonyms")
LABELS = {
    "crisis": "Crisis intent",
    "emergency": "Emergency hazards",
    "synonyms": "Search synonyms",
}
EXPORT_FILES = {"crisis": "crisis.yml", "emergency": "emergency.yml", "synonyms": "synonyms.txt"}
MAX_BYTES = 200_000
MAX_LINE_CHARS = 2_000
CHECK_INTERVAL = 1.0  # seconds between version checks in one process


class VocabularyInvalid(ValueError):
    """Vocabulary text that cannot be saved; the message says why."""


class UnknownVocabulary(LookupError):
    """No vocabulary has that name."""


def default_path(name: str) -> Path:
    """The shipped default for a vocabulary (the seed on first import)."""
    if name == "synonyms":
        return Path(current_app.config["KB_SYNONYMS_FILE"])
    return DATA_DIR / f"{name}_vocabulary.yml"


def default_text(name: str) -> str:
    """The shipped default text ("" if the file is missing)."""
    try:
        return default_path(name).read_text(encoding="utf-8")
    except OSError:
        return ""


def check_synonyms(text: str) -> list[str]:
    """Problems in synonyms text: each group needs two or more comma-separated terms."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        body = line.split("#", 1)[0].strip()
        if body and len([t for t in body.split(",") if t.strip()]) < 2:
            problems.append(
                f"Line {number} has only one term ({body[:40]!r}); a group needs two or more "
                "terms separated by commas, or start the line with # to make it a comment."
            )
    return problems


def check_vocabulary(name: str, text: str) -> list[str]:
    """Problems that stop ``text`` being saved as vocabulary ``name`` (empty when fine)."""
    if name not in NAMES:
        raise UnknownVocabulary(name)
    problems = []
    if len(text.encode("utf-8")) > MAX_BYTES:
        problems.append(f"The text may be at most {MAX_BYTES // 1000} kB.")
    if "\x00" in text:
        problems.append("The text contains a NUL character; paste plain text only.")
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE_CHARS:
            problems.append(f"Line {number} is longer than {MAX_LINE_CHARS} characters.")
    if problems:
        return problems
    if name == "synonyms":
        return check_synonyms(text)
    try:
        vocab = parse_vocabulary(text)
    except VocabularyError as error:
        return [str(error)]
    if vocab.name != name:
        return [f"The 'name:' line says '{vocab.name}'; this vocabulary is '{name}'."]
    return []


def get_vocabulary(name: str) -> SearchVocabulary | None:
    """The stored vocabulary row, or None before the first import."""
    if name not in NAMES:
        raise UnknownVocabulary(name)
    return db.session.scalar(db.select(SearchVocabulary).filter_by(name=name))


def vocabulary_text(name: str) -> str:
    """The text in force: the stored one, else the shipped default."""
    row = get_vocabulary(name)
    return row.text if row is not None else default_text(name)


def save_vocabulary(name: str, text: str, user: User | None, action: str = "update") -> int:
    """Validate and store a vocabulary with its audit row (one transaction; the caller
    commits). Returns the number of lines changed; raises VocabularyInvalid."""
    text = text.replace("\r\n", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    problems = check_vocabulary(name, text)
    if problems:
        raise VocabularyInvalid(" ".join(problems[:5]))
    row = get_vocabulary(name)
    before = row.text if row is not None else ""
    diff = list(difflib.unified_diff(before.splitlines(), text.splitlines(), lineterm="", n=0))
    changed = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    if row is not None and not changed:
        return 0
    if row is None:
        row = SearchVocabulary(name=name, text=text, version=1)
        db.session.add(row)
    else:
        row.text, row.version = text, row.version + 1
    row.updated_at = utcnow()
    row.updated_by_id = user.id if user is not None else None
    db.session.flush()
    audit.record(user, f"vocabulary.{action}", row, {"diff": changed[:500]}, label=name)
    return len(changed)


# Audit actions that mean "the text is a shipped default", written by no person.
SHIPPED_ACTIONS = ("vocabulary.seed", "vocabulary.default")


def seed_vocabularies() -> int:
    """Store the shipped defaults of any vocabulary the database lacks, and bring one that
    nobody has changed since it was seeded up to a newer shipped default; returns how many.

    Managers own a vocabulary once they (or an import of theirs) change it: a later
    release never overwrites their edits. Until then, a release's better crisis wording
    reaches the site with the next import-content.
    """
    count = 0
    for name in NAMES:
        text = default_text(name)
        if not text:
            continue
        row = get_vocabulary(name)
        if row is None:
            save_vocabulary(name, text, None, action="seed")
            count += 1
        elif _still_shipped(row) and save_vocabulary(name, text, None, action="default"):
            count += 1
    return count


def _still_shipped(row: SearchVocabulary) -> bool:
    """Whether the stored text's last change was a shipped default (no person since)."""
    last = db.session.scalar(audit.for_target("search_vocabulary", row.id).limit(1))
    return last is not None and last.action in SHIPPED_ACTIONS and last.user_id is None


def export_vocabularies(directory: Path) -> int:
    """Write each stored vocabulary to DIRECTORY (crisis.yml, emergency.yml, synonyms.txt)."""
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for name in NAMES:
        row = get_vocabulary(name)
        if row is not None:
            (directory / EXPORT_FILES[name]).write_text(row.text, encoding="utf-8")
            count += 1
    return count


def import_vocabularies(directory: Path) -> tuple[list[str], list[str]]:
    """Load exported vocabularies from DIRECTORY; returns (changed names, error messages).
    A file with problems is reported and leaves that vocabulary as it was."""
    changed, errors = [], []
    for name in NAMES:
        path = directory / EXPORT_FILES[name]
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
            if save_vocabulary(name, text, None, action="import"):
                changed.append(name)
        except (OSError, UnicodeDecodeError) as error:
            errors.append(f"{path}: cannot read ({error})")
        except VocabularyInvalid as error:
            errors.append(f"{path}: {error}")
    return changed, errors


# ----- what searches use ------------------------------------------------------------


@dataclass
class Intent:
    """What a query was recognised as, and the article to put first."""

    crisis: Match | None = None
    emergency: Match | None = None
    crisis_article: str = "crisis-self-harm"
    emergency_article: str = "repair-priorities"


@dataclass
class LiveVocabularies:
    """This process's compiled copy of the vocabularies, refreshed when their versions move."""

    stamp: tuple = ()
    checked_at: float = float("-inf")
    recognisers: dict[str, Recogniser] = field(default_factory=dict)
    synonyms_text: str | None = None
    generation: int = 0  # bumped on every reload
    synonyms_applied: int = -1  # the generation the search index's synonyms come from
    lock: threading.Lock = field(default_factory=threading.Lock)


def init_vocabularies(app: Flask) -> None:
    """Give the app (so each worker) its own live copy."""
    app.extensions["kb_vocabularies"] = LiveVocabularies()


def _live() -> LiveVocabularies:
    """This app's live copy."""
    return current_app.extensions["kb_vocabularies"]


def _compile(name: str, text: str) -> Recogniser | None:
    """A recogniser for stored text, or None (logged) if it cannot be used."""
    try:
        return Recogniser(parse_vocabulary(text), is_common_english)
    except VocabularyError as error:  # stored text is validated; a bad default is a bug
        log.error("Vocabulary %s cannot be used: %s", name, error)
        return None


def refresh(force: bool = False) -> LiveVocabularies:
    """Reload what changed since the last look; at most one database check a second.

    If the check fails (database locked, unreachable) searches carry on with what this
    process already has, or with the shipped defaults."""
    live = _live()
    now = time.monotonic()
    if not force and now - live.checked_at < CHECK_INTERVAL:
        return live
    with live.lock:
        if not force and now - live.checked_at < CHECK_INTERVAL:
            return live
        live.checked_at = now
        try:
            rows = db.session.execute(
                db.select(SearchVocabulary.name, SearchVocabulary.version)
            ).all()
            stamp = tuple(sorted((n, v) for n, v in rows))
            if stamp != live.stamp or not live.recognisers:
                texts = dict(db.session.execute(
                    db.select(SearchVocabulary.name, SearchVocabulary.text)).all())
                _load(live, texts)
                live.stamp = stamp
        except Exception:  # noqa: BLE001 - search must answer without the database
            db.session.rollback()
            log.warning("Vocabulary version check failed; using the copy in memory",
                        exc_info=True)
            if not live.recognisers:
                _load(live, {})
    return live


def _load(live: LiveVocabularies, texts: dict[str, str]) -> None:
    """Compile the stored texts (shipped defaults for any not stored yet)."""
    recognisers = {}
    for name in ("crisis", "emergency"):
        recogniser = _compile(name, texts.get(name) or default_text(name))
        if recogniser is not None:
            recognisers[name] = recogniser
    live.recognisers = recognisers
    live.synonyms_text = texts.get("synonyms")
    if live.synonyms_text is None:
        live.synonyms_text = default_text("synonyms")
    live.generation += 1


def recognise(query: str) -> Intent:
    """Whether ``query`` expresses a risk to the caller, or reports a hazard."""
    live = refresh()
    intent = Intent()
    crisis, emergency = live.recognisers.get("crisis"), live.recognisers.get("emergency")
    if crisis is not None:
        intent.crisis = crisis.match(query)
        intent.crisis_article = crisis.vocab.article or intent.crisis_article
    if emergency is not None and intent.crisis is None:
        intent.emergency = emergency.match(query)
        intent.emergency_article = emergency.vocab.article or intent.emergency_article
    return intent


def apply_synonyms(synonyms: Synonyms) -> None:
    """Hand the index the synonyms in force, if they changed since it last got them."""
    live = refresh()
    if live.synonyms_applied != live.generation:
        with live.lock:
            synonyms.use_text(live.synonyms_text or "")
            live.synonyms_applied = live.generation

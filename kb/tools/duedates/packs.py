"""Regulatory packs: a set of response standards shipped as data with its source.

A pack is a folder under ``kb/data/packs/`` (or anywhere, given its path) holding
``pack.yml`` and the articles agents need for it (``articles/*.md``). Loading is
idempotent: the set is created out of force the first time (managers put it in force),
its standards are brought in line with the file, and an unchanged file changes nothing.
Managers' choices (the set's name, bank holidays, whether it is in force) survive a reload.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from kb.core import audit
from kb.extensions import db
from kb.models import User, utcnow
from kb.tools.duedates.arithmetic import (
    REGION_CODES,
    DueDateError,
    Rule,
    validate_chain,
    validate_rule,
)
from kb.tools.duedates.models import ResponseStandard, StandardSet
from kb.tools.duedates.services import KEY_RE, STANDARD_FIELDS, snapshot, standard_values

PACKS_DIR = Path(__file__).resolve().parents[2] / "data" / "packs"
REQUIRED = ("key", "label", "source", "checked_on", "standards")
OPTIONAL = ("region", "source_url", "notes")
# The longest each text may be: the columns' sizes (PostgreSQL enforces them). A set's
# label leaves room for the " (pack)" added when another set already has the name.
MAX_SET_LABEL, MAX_SOURCE_URL = 110, 500
MAX_CHARS = {"label": 200, "channel": 60, "extension_note": 300, "promise": 200,
             "citation": 300}


class PackError(DueDateError):
    """A pack that cannot be loaded; the message says which field and why."""


@dataclass
class PackReport:
    standard_set: StandardSet
    created_set: bool = False
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    articles_dir: Path | None = None

    @property
    def unchanged(self) -> bool:
        return not (self.created_set or self.added or self.changed or self.retired)


def available_packs() -> list[str]:
    """The names of the packs shipped with Frontline KB."""
    return sorted(p.name for p in PACKS_DIR.iterdir() if (p / "pack.yml").is_file())


def find_pack(name: str) -> Path:
    """The folder of a shipped pack by name, or of a pack at a path."""
    candidates = [PACKS_DIR / name, Path(name)]
    for folder in candidates:
        if folder.is_dir() and (folder / "pack.yml").is_file():
            return folder
    if Path(name).is_file() and Path(name).name == "pack.yml":
        return Path(name).parent
    raise PackError(f"No pack called {name!r}. Shipped packs: "
                    f"{', '.join(available_packs()) or 'none'}; or give a folder with a pack.yml.")


def read_pack(folder: Path) -> dict:
    """The pack's data, checked; raises PackError naming what is wrong."""
    try:
        data = yaml.safe_load((folder / "pack.yml").read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise PackError(f"{folder / 'pack.yml'} is not UTF-8 text.") from None
    except yaml.YAMLError as error:
        raise PackError(f"{folder / 'pack.yml'} is not readable YAML: "
                        f"{_yaml_problem(error)}.") from None
    if not isinstance(data, dict):
        raise PackError(f"{folder / 'pack.yml'} must be a mapping with "
                        f"{', '.join(REQUIRED)}.")
    missing = [k for k in REQUIRED if not data.get(k)]
    if missing:
        raise PackError(f"{folder / 'pack.yml'} is missing {', '.join(missing)}.")
    unknown = sorted(set(map(str, data)) - {*REQUIRED, *OPTIONAL})
    if unknown:
        raise PackError(f"{folder / 'pack.yml'} has unknown field(s) {', '.join(unknown)}; "
                        f"a pack has {', '.join((*REQUIRED, *OPTIONAL))}.")
    if len(str(data["label"]).strip()) > MAX_SET_LABEL:
        raise PackError(f"The pack's label must be at most {MAX_SET_LABEL} characters.")
    if len(str(data.get("source_url") or "").strip()) > MAX_SOURCE_URL:
        raise PackError(f"source_url must be at most {MAX_SOURCE_URL} characters.")
    if not KEY_RE.match(str(data["key"])):
        raise PackError("The pack's key must be lower-case letters, digits and hyphens.")
    if not isinstance(data["checked_on"], date):
        raise PackError("checked_on must be a date written YYYY-MM-DD.")
    if data.get("region") and data["region"] not in REGION_CODES:
        raise PackError(f"region must be one of {', '.join(REGION_CODES)}.")
    rows = data["standards"]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise PackError("standards must be a list of mappings.")
    rules = {}
    for row in rows:
        unknown = sorted(set(map(str, row)) - set(STANDARD_FIELDS))
        if unknown:
            raise PackError(f"{row.get('key')}: unknown field(s) {', '.join(unknown)}; a "
                            f"standard has {', '.join(STANDARD_FIELDS)}.")
        try:
            values = standard_values(row)
        except (TypeError, ValueError):
            raise PackError(f"{row.get('key')}: amount and extension_days must be whole "
                            "numbers.") from None
        if not KEY_RE.match(str(values["key"] or "")):
            raise PackError(f"Standard key {values['key']!r} must be lower-case letters, "
                            "digits and hyphens.")
        if not values["label"] or not values["channel"] or not values["citation"]:
            raise PackError(f"{values['key']}: every standard needs a label, a channel and "
                            "a citation of where its figure comes from.")
        if values["key"] in rules:
            raise PackError(f"{values['key']} appears twice in the pack.")
        for name, limit in MAX_CHARS.items():
            if len(str(values[name] or "")) > limit:
                raise PackError(f"{values['key']}: {name} must be at most {limit} "
                                "characters.")
        rules[values["key"]] = Rule(**{k: values[k] for k in (
            "key", "label", "channel", "rule", "amount", "counts_from", "event",
            "extension_days", "extension_note", "promise")})
    for rule in rules.values():
        try:
            validate_rule(rule.rule, rule.amount)
        except DueDateError as error:
            raise PackError(f"{rule.key}: {error}") from None
    try:
        validate_chain(rules)
    except DueDateError as error:
        raise PackError(str(error)) from None
    return data


def _yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML error in one line: 'mapping values are not allowed here (line 3)'."""
    problem = getattr(error, "problem", None) or "it cannot be parsed"
    mark = getattr(error, "problem_mark", None)
    return f"{problem} (line {mark.line + 1})" if mark is not None else problem


def pack_digest(folder: Path) -> str:
    """The sha256 of the pack file and its articles, to tell an unchanged pack."""
    digest = hashlib.sha256()
    for path in [folder / "pack.yml", *sorted((folder / "articles").glob("*.md"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_pack(name: str, user: User | None = None) -> PackReport:
    """Load or refresh a pack's standards (audited when anything changed). The caller
    imports the articles in ``report.articles_dir`` and commits."""
    folder = find_pack(name)
    data = read_pack(folder)
    digest = pack_digest(folder)
    standard_set = db.session.scalar(db.select(StandardSet).filter_by(key=data["key"]))
    report = PackReport(standard_set)
    if standard_set is None:
        position = db.session.scalar(db.select(db.func.max(StandardSet.position))) or 0
        label_taken = db.session.scalar(db.select(StandardSet).filter_by(label=data["label"]))
        standard_set = StandardSet(
            key=data["key"], position=position + 1, in_force=False,
            label=data["label"] if label_taken is None else f"{data['label']} (pack)",
            region=data.get("region") or None)
        db.session.add(standard_set)
        report.standard_set, report.created_set = standard_set, True
    standard_set.source = str(data["source"]).strip()
    standard_set.source_url = str(data.get("source_url") or "").strip()
    standard_set.checked_on = data["checked_on"]
    standard_set.notes = str(data.get("notes") or "").strip()
    existing = {s.key: s for s in standard_set.standards}
    for position, row in enumerate(data["standards"]):
        values = standard_values(row)
        standard = existing.pop(values["key"], None)
        if standard is None:
            elsewhere = db.session.scalar(
                db.select(ResponseStandard).filter_by(key=values["key"]))
            if elsewhere is not None:
                raise PackError(f"The key {values['key']!r} is already used by a standard "
                                f"in “{elsewhere.standard_set.label}”.")
            standard = ResponseStandard(standard_set=standard_set)
            db.session.add(standard)
            report.added.append(values["key"])
            before = None
        else:
            before = snapshot(standard)
        for name, value in values.items():
            setattr(standard, name, value)
        standard.position, standard.active = position, True
        db.session.flush()
        if before is not None and snapshot(standard) != before:
            standard.updated_at = utcnow()
            report.changed.append(values["key"])
    for standard in existing.values():  # in the set but no longer in the pack
        if standard.active:
            standard.active = False
            report.retired.append(standard.key)
    standard_set.pack_digest = digest
    if (folder / "articles").is_dir():
        report.articles_dir = folder / "articles"
    db.session.flush()
    if not report.unchanged:
        standard_set.updated_at = utcnow()
        audit.record(user, "standard_set.load", ("standard_set", standard_set.key),
                     {"pack": data["key"], "digest": digest, "created": report.created_set,
                      "added": report.added, "changed": report.changed,
                      "retired": report.retired, "checked_on": data["checked_on"].isoformat()},
                     label=standard_set.label)
    return report

"""Placeholders in the words to say: what answers each one, and the words filled in.

A placeholder is ``[words]`` in a step's words to say. It names a capture field (by its
key, its label, or its label up to the first comma or bracket), a value a step gives with
``Set:``, or ``[your name]`` (the signed-in agent). Words such as "the" or "your" in front
are ignored, so ``[the problem]`` names a field labelled "The problem, in the caller's
words". A placeholder that names nothing is for the agent to fill in while speaking, and
stays visible. Pure: no Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from kb.callscripts.graph import reachable

if TYPE_CHECKING:
    from kb.callscripts.format import ParsedScript

# Not a Markdown link ``[text](href)`` or reference ``[text][ref]``, not an image, and
# with at least one letter inside (``[ ]`` and ``[1]`` are left alone).
PLACEHOLDER_RE = re.compile(
    r"(?<![\\!\]])\[(?P<text>[^\[\]]*?[A-Za-z][^\[\]]*?)\](?![(\[])"
)
LEADING_WORDS = {"the", "a", "an", "your", "their", "his", "her", "its", "my", "our"}
YOUR_NAME = "your_name"  # built in: the signed-in agent's name
LABEL_HEAD_RE = re.compile(r"^[^,(]*")


def placeholders(text: str) -> list[str]:
    """The placeholders in some words to say, in order (a blank line ends none of them)."""
    return [m["text"] for m in PLACEHOLDER_RE.finditer(text) if "\n\n" not in m["text"]]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("'", "").replace("\u2019", ""))


def name_table(script: ParsedScript) -> dict[str, str]:
    """Every way a placeholder may name something in this script -> the key it names."""
    table: dict[str, str] = {}
    for item in script.fields.values():
        for text in (item.key, item.label, LABEL_HEAD_RE.match(item.label)[0]):
            words = _words(text)
            if words:
                table.setdefault("_".join(words), item.key)
    for key in script.set_keys:
        table.setdefault(key, key)
    table.setdefault(YOUR_NAME, YOUR_NAME)
    return table


def resolve(text: str, table: Mapping[str, str]) -> str | None:
    """The key a placeholder names, or None when it is for the agent to fill in."""
    words = _words(text)
    tries = ["_".join(words)]
    if len(words) > 1 and words[0] in LEADING_WORDS:
        tries.append("_".join(words[1:]))
    return next((table[name] for name in tries if name in table), None)


def one_line(value: str) -> str:
    return " ".join(value.split())


def set_values(script: ParsedScript, route: Iterable[str]) -> dict[str, str]:
    """The values "Set:" lines give along a route (a later step overrides an earlier)."""
    found: dict[str, str] = {}
    for step_id in route:
        for item in script.steps[step_id].sets:
            found[item.key] = item.value
    return found


def fill_text(text: str, table: Mapping[str, str], values: Mapping[str, str]) -> str:
    """Plain text with each placeholder that names a field with a value filled in."""

    def answer(match: re.Match) -> str:
        key = resolve(match["text"], table)
        value = values.get(key, "") if key else ""
        return one_line(value) or match[0]

    return PLACEHOLDER_RE.sub(answer, text)


class Answers:
    """What fills the placeholders on one page: captured values, values set on the path,
    the agent's name, and which fields the page asks for (JavaScript fills those live)."""

    def __init__(
        self,
        script: ParsedScript,
        values: Mapping[str, str],
        route: Iterable[str],
        agent_name: str = "",
        editable: Iterable[str] = (),
    ):
        self.table = name_table(script)
        self.fields = set(script.fields)
        self.values = dict(values)
        self.sets = set_values(script, route)
        self.agent_name = agent_name
        self.editable = set(editable)

    def html(self, text: str, *, nested: bool = False) -> Markup:
        """One placeholder as HTML: its answer, or the placeholder marked as still to fill."""
        key = resolve(text, self.table)
        shown = "[" + one_line(text) + "]"
        if key in self.fields:
            value = one_line(self.values.get(key, ""))
            live = key in self.editable
            return Markup(
                '<span class="{cls}" data-fill="{key}"{placeholder}>{text}</span>'
            ).format(cls="say__filled" if value else "say__blank", key=key, text=value or shown,
                     placeholder=Markup(' data-placeholder="{}"').format(shown) if live else "")
        if key == YOUR_NAME and self.agent_name:
            return Markup('<span class="say__filled">{}</span>').format(self.agent_name)
        if key in self.sets and not nested:
            # A set value may itself name captured fields ("your appointment is
            # [appointment]"); those are filled, one level deep.
            value = self.sets[key]
            parts, last = [], 0
            for match in PLACEHOLDER_RE.finditer(value):
                parts += [escape(value[last:match.start()]), self.html(match["text"],
                                                                      nested=True)]
                last = match.end()
            parts.append(escape(value[last:]))
            return Markup('<span class="say__filled">{}</span>').format(Markup("").join(parts))
        return Markup('<span class="say__blank">{}</span>').format(shown)


def unfillable_placeholders(script: ParsedScript) -> list[tuple[str, int, str]]:
    """Placeholders that name a field or a set value that no route to their step gives:
    (message, line, step id) for each, so the author can fix a typo or a missing field."""
    table = name_table(script)
    reached = reachable(script.steps, script.start) if script.start in script.steps else set()
    after = {step_id: reachable(script.steps, step_id) for step_id in reached}
    givers: dict[str, set[str]] = {}
    for step in script.steps.values():
        for key in [f.key for f in step.capture] + [s.key for s in step.sets]:
            givers.setdefault(key, set()).add(step.id)
    problems = []
    for step in script.steps.values():
        if step.id not in reached:
            continue
        for text in placeholders(step.say):
            key = resolve(text, table)
            if key is None or key == YOUR_NAME:
                continue
            if not any(step.id in after[giver] for giver in givers.get(key, ()) if
                       giver in after):
                problems.append((f"placeholder [{one_line(text)}] names '{key}', which no "
                                 "route to this step captures or sets, so it always shows "
                                 "as a placeholder", step.line, step.id))
    return problems

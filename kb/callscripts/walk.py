"""Walking a parsed script: valid paths, the shortest route to a step, the call summary.

Pure: no Flask, no database.
"""

from __future__ import annotations

from collections import deque
from itertools import pairwise

from kb.callscripts.fill import fill_text, name_table, set_values
from kb.callscripts.format import Choice, ParsedScript


def choice_between(script: ParsedScript, here: str, there: str) -> Choice | None:
    """The choice in step ``here`` that leads to step ``there``, if any."""
    step = script.steps.get(here)
    return next((c for c in step.choices if c.target == there), None) if step else None


def is_valid_path(script: ParsedScript, path: list[str], step_id: str) -> bool:
    """True when ``path`` starts at the start step and each step chose the next."""
    route = [*path, step_id]
    if route[0] != script.start or any(s not in script.steps for s in route):
        return False
    return all(choice_between(script, a, b) for a, b in pairwise(route))


def shortest_path(script: ParsedScript, step_id: str) -> list[str] | None:
    """The fewest steps from the start to ``step_id`` (excluding it), or None."""
    if step_id not in script.steps:
        return None
    previous: dict[str, str | None] = {script.start: None}
    queue = deque([script.start])
    while queue:
        here = queue.popleft()
        if here == step_id:
            route: list[str] = []
            while previous[here] is not None:
                here = previous[here]
                route.append(here)
            return route[::-1]
        for choice in script.steps[here].choices:
            if choice.target not in previous:
                previous[choice.target] = here
                queue.append(choice.target)
    return None


def summary_head(
    script: ParsedScript,
    path: list[str],
    step_id: str,
    version: int | None = None,
    *,
    when: str | None = None,
    agent: str | None = None,
) -> list[str]:
    """The summary's first lines: the script and version, when and who, the path taken."""
    heading = script.title + (f" (script version {version})" if version else "")
    lines = [f"Call script: {heading}"]
    if when:
        lines.append(f"Date and time: {when}")
    if agent:
        lines.append(f"Agent: {agent}")
    lines += ["", "Path taken:"]
    route = [*path, step_id]
    for number, (here, there) in enumerate(zip(route, [*route[1:], None], strict=True), 1):
        step = script.steps[here]
        choice = choice_between(script, here, there) if there else None
        lines.append(f"{number}. {step.title}" + (f" -> {choice.label}" if choice else ""))
    return [*lines, ""]


def summary_items(
    script: ParsedScript, route: list[str], values: dict[str, str]
) -> list[dict[str, object]]:
    """What the details part lists, in order: each capture field (its value comes from the
    form, so the page can rebuild it as the agent types) then each value set on the route
    (fixed text, with any field it names filled in)."""
    table = name_table(script)
    items: list[dict[str, object]] = [
        {"key": f.key, "label": f.label, "long": f.long} for f in script.fields.values()
    ]
    for key, value in set_values(script, route).items():
        items.append({"label": key.replace("_", " ").capitalize(),
                      "text": fill_text(value, table, values)})
    return items


def summary_details(items: list[dict[str, object]], values: dict[str, str]) -> list[str]:
    """The details part of the summary (kb/static/js/player.js builds the same lines)."""
    found = []
    for item in items:
        value = str(item["text"] if "key" not in item else values.get(item["key"], ""))
        if "key" in item:
            value = value.strip() if item["long"] else " ".join(value.split())
        if value:
            found.append((item["label"], value))
    lines = ["Details captured:" if found else "No details captured."]
    for label, value in found:
        if "\n" in value:
            lines.append(f"{label}:")
            lines += [f"  {part}" for part in value.split("\n")]
        else:
            lines.append(f"{label}: {value}")
    return lines


def call_summary(
    script: ParsedScript,
    path: list[str],
    step_id: str,
    values: dict[str, str],
    version: int | None = None,
    *,
    when: str | None = None,
    agent: str | None = None,
) -> str:
    """Plain text for the CRM: the script and version, when and who, the path taken with
    each answer, the fields captured and the values set on the way."""
    head = summary_head(script, path, step_id, version, when=when, agent=agent)
    items = summary_items(script, [*path, step_id], values)
    return "\n".join(head + summary_details(items, values))

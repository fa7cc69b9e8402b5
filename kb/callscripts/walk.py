"""Walking a parsed script: valid paths, the shortest route to a step, the call summary.

Pure: no Flask, no database.
"""

from __future__ import annotations

from collections import deque
from itertools import pairwise

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


def call_summary(
    script: ParsedScript,
    path: list[str],
    step_id: str,
    values: dict[str, str],
    version: int | None = None,
) -> str:
    """Plain text for the CRM: the script, the path taken with each answer, the fields."""
    heading = script.title + (f" (script version {version})" if version else "")
    lines = [f"Call script: {heading}", "", "Path taken:"]
    route = [*path, step_id]
    for number, (here, there) in enumerate(zip(route, [*route[1:], None], strict=True), 1):
        step = script.steps[here]
        choice = choice_between(script, here, there) if there else None
        lines.append(f"{number}. {step.title}" + (f" -> {choice.label}" if choice else ""))
    captured = [(f, values.get(f.key, "").strip()) for f in script.fields.values()]
    captured = [(f, v) for f, v in captured if v]
    lines += ["", "Details captured:" if captured else "No details captured."]
    for item, value in captured:
        if "\n" in value:
            lines.append(f"{item.label}:")
            lines += [f"  {part}" for part in value.split("\n")]
        else:
            lines.append(f"{item.label}: {value}")
    return "\n".join(lines)

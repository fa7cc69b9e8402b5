"""A script's steps as a graph: is every step reachable, and can every call finish?

Pure: no Flask, no database. ``kb.callscripts.format`` turns the problems into errors.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kb.callscripts.format import Step

Problem = tuple[str, int | None, str | None]  # message, line, step id


def graph_problems(start: str, steps: dict[str, Step]) -> list[Problem]:
    """Start exists, choices point at steps, every step is reachable and can finish:
    each problem as (message, line, step id)."""
    problems: list[Problem] = []
    for step in steps.values():
        for choice in step.choices:
            if choice.target not in steps:
                problems.append((f"choice '{choice.label}' points to missing step "
                                 f"'{choice.target}'", choice.line, step.id))
        if not step.choices and not step.end:
            problems.append(("the step has no choices and is not marked as an end; add "
                             "choices or write the heading as "
                             f"'## {step.title} {{#{step.id} .end}}'", step.line, step.id))
    if not start or not steps:
        return problems
    if start not in steps:
        problems.append((f"the start step '{start}' does not exist", None, start))
        return problems
    reached = reachable(steps, start)
    for step in steps.values():
        if step.id not in reached:
            problems.append((f"the step cannot be reached from the start step '{start}'",
                             step.line, step.id))
    finishing = can_finish(steps)
    for step in steps.values():
        if step.id in reached and step.id not in finishing and step.choices:
            problems.append(("no end step can be reached from this step (its choices "
                             "only go round in a loop)", step.line, step.id))
    return problems


def reachable(steps: dict[str, Step], start: str) -> set[str]:
    seen, queue = {start}, deque([start])
    while queue:
        for choice in steps[queue.popleft()].choices:
            if choice.target in steps and choice.target not in seen:
                seen.add(choice.target)
                queue.append(choice.target)
    return seen


def can_finish(steps: dict[str, Step]) -> set[str]:
    """Steps from which some end step can be reached.

    Dead ends and choices to missing steps count as finishing here: they have their own
    errors, and repeating them as "no end can be reached" would only be noise.
    """
    done = {s.id for s in steps.values() if s.end or not s.choices}
    changed = True
    while changed:
        changed = False
        for step in steps.values():
            if step.id not in done and any(
                c.target in done or c.target not in steps for c in step.choices
            ):
                done.add(step.id)
                changed = True
    return done

"""The editor's plain-text form of comprehension questions, to and from the stored list.

    Q: How soon do we answer a call?
    * Within 20 seconds
    - Within 2 minutes

    Q: What do you give the caller first?
    ...

A question starts with "Q:"; each following line is a choice, the right one starting
with "* " (others may start with "- "); a blank line ends the question. The rule the
questions must meet is ``kb.content.loader.clean_questions``, the one the import uses.
"""

from __future__ import annotations

from kb.content.loader import QuestionsInvalid, clean_questions
from kb.core.errors import Invalid

FIELD = "signoff_questions"
MAX_TEXT = 20_000


def to_text(questions: list[dict] | None) -> str:
    """The stored questions written in the editor's plain-text form."""
    blocks = []
    for item in questions or []:
        lines = [f"Q: {item['question']}"]
        lines += [f"{'*' if choice == item['answer'] else '-'} {choice}"
                  for choice in item["choices"]]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def from_text(text: str) -> list[dict]:
    """The questions typed in the editor, checked by the import's rule; raises
    Invalid("signoff_questions", ...) saying which question and what to change."""
    if len(text) > MAX_TEXT:
        raise Invalid(FIELD, f"The questions are {len(text):,} characters; the most is "
                             f"{MAX_TEXT:,}.")
    items: list[dict] = []
    current: dict | None = None
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.strip()
        if not line:
            current = None
            continue
        if line[:2].lower() == "q:":
            current = {"question": line[2:].strip(), "choices": [], "answers": []}
            items.append(current)
            continue
        if current is None:
            raise Invalid(FIELD, f"“{line[:60]}” is not under a question: start each "
                                 "question with a line “Q: ” and put its choices straight "
                                 "after it.")
        right = line.startswith("*")
        choice = line[1:].strip() if line[0] in "*-" else line
        current["choices"].append(choice)
        if right:
            current["answers"].append(choice)
    for number, item in enumerate(items, start=1):
        if len(item["answers"]) != 1:
            how = "has no right answer" if not item["answers"] else "has more than one answer"
            raise Invalid(FIELD, f"Question {number} {how}: start the one right choice with "
                                 "“* ”.")
    try:
        return clean_questions([{"question": i["question"], "choices": i["choices"],
                                 "answer": i["answers"][0]} for i in items])
    except QuestionsInvalid as error:
        raise Invalid(FIELD, _sentence(error.reason)) from None


def clean(value: object) -> list[dict]:
    """Questions from the editor (text) or the API (a list as in front matter, or null for
    none), checked by the import's rule; raises Invalid("signoff_questions", ...)."""
    if isinstance(value, str):
        return from_text(value)
    try:
        return clean_questions(value)
    except QuestionsInvalid as error:
        raise Invalid(FIELD, _sentence(error.reason)) from None


def _sentence(reason: str) -> str:
    """A rule's reason as a sentence for the editor's error summary."""
    return reason[:1].upper() + reason[1:] + "."

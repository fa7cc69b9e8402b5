"""Agent filler: the words around a question that say who is asking, not what it is about.

Agents type what the caller said the way they would say it to a colleague: "caller says
the boiler has packed in", "customer wants to know when you open", "can you tell me the
stage 1 timescale". The reporting words match nearly every article ("caller" is in most of
them), so they are dropped before searching. Only whole reporting phrases go: a role word
on its own ("suicidal caller", "deaf customer") or a verb on its own ("report a repair")
is kept, and a query that is nothing but filler is searched as typed.
"""

from __future__ import annotations

import re

# Who the agent is reporting. Relatives and neighbours are left out on purpose: "neighbour"
# carries meaning (nuisance, a leak from next door) and "son" can be the subject of a call.
_WHO = (
    "caller|customer|cust|tenant|resident|client|lady|gentleman|gent|man|"
    "woman|person|someone|somebody|he|she|they"
)
_WHOSE = "the|a|an|my|this|our|her|his|their"
# Ways of saying "told me" or "wants"; the auxiliaries in front are optional.
_AUX = "is|has|was|had|keeps|just|also|now|been|still|on the phone|on the line"
_SAYS = (
    "says|said|saying|asks|asked|asking|wants|want|wanted|wanting|would like|needs|"
    "calling|called|rang|ringing|phoned|phoning|enquiring|querying|wondering|"
    "reporting|reports|reported|mentioned|mentions|mentioning|told me|tells me|"
    "telling me|telling us|told us|states|stated|stating|claims|claimed|advised|advises|"
    "explained|explains|informed me|informs me"
)
# What may follow the verb and adds nothing: "wants to know whether", "asking about".
_THEN = (
    "to know|to ask|to find out|to check|to see|to understand|know|about|for|that|if|"
    "whether|me|us|regarding|re"
)
# The agent's own framing of the question.
_ASK = [
    r"(?:can|could|would|will) you (?:please )?(?:tell|show|explain to|let) (?:me|us)(?: know)?",
    r"(?:i|we) (?:need|want|would like|have) to (?:know|find out|check|ask)(?: about)?",
    r"(?:do|does) (?:you|anyone|anybody) know",
    r"tell me(?: about)?",
    r"help with",
    r"info(?:rmation)? (?:on|about|for|regarding)",
    r"(?:a )?(?:query|question|enquiry) (?:about|on|regarding|re)",
    r"(?:the )?(?:process|procedure|guidance|steps) (?:for|on|to)",
    r"looking for",
    r"please",
    r"thanks|thank you",
    r"regarding",
]


def _phrase(pattern: str) -> str:
    """Let the spaces of a pattern match any run of non-word characters."""
    return pattern.replace(" ", r"\W+")


_REPORTING = (
    rf"(?:(?:{_WHOSE}) )?(?:{_WHO}) (?:(?:{_AUX}) )*(?:{_SAYS})(?: (?:{_THEN}))*"
)
FILLER_RE = re.compile(
    r"\b(?:" + "|".join(_phrase(p) for p in [_REPORTING, *_ASK]) + r")\b", re.IGNORECASE
)


def filler_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Character spans of agent filler in ``text[start:end]``."""
    return [m.span() for m in FILLER_RE.finditer(text, start, len(text) if end is None else end)]


# Who is on the phone, not what the call is about: nearly every call is about a tenant,
# resident or customer, so these words only break ties ("deaf customer" is about deafness).
ROLE_WORDS = frozenset(
    "caller callers customer customers cust tenant tenants resident residents client clients"
    " person lady gentleman".split()
)

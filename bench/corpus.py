"""Synthetic contact-centre articles for search benchmarks (deterministic for a seed)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import accumulate

from kb.search.engine import Document

# (category, topic words, title stems, tags, phrases agents' procedures really use)
TOPICS = [
    (
        "Repairs",
        "repair repairs emergency routine urgent leak boiler heating plumber "
        "electrician contractor operative appointment ceiling water damp mould roof window "
        "door lock toilet tap drain gutter fence",
        [
            "Repair priorities",
            "Reporting a leak",
            "Boiler breakdowns",
            "Damp and mould",
            "Communal repairs",
        ],
        ["repairs", "leak", "boiler"],
        ["within 24 hours", "20 working days", "make safe", "out of hours", "no heating"],
    ),
    (
        "Complaints",
        "complaint complaints stage escalation ombudsman acknowledge response "
        "investigation manager remedy apology compensation dissatisfied learning outcome",
        ["Complaints procedure", "Stage 2 complaints", "Housing Ombudsman", "Compensation"],
        ["complaints", "stage 1", "stage 2"],
        [
            "stage 1 complaint",
            "stage 2 complaint",
            "10 working days",
            "expression of dissatisfaction",
        ],
    ),
    (
        "Rent and income",
        "rent arrears payment direct debit balance statement benefit "
        "universal credit housing debt income officer plan instalment eviction court notice",
        [
            "Rent arrears referrals",
            "Taking a card payment",
            "Direct debits",
            "Universal Credit claims",
        ],
        ["rent", "arrears", "payments"],
        ["card payment", "payment plan", "universal credit", "housing benefit"],
    ),
    (
        "Safeguarding",
        "safeguarding vulnerable risk crisis suicide harm samaritans police "
        "ambulance welfare concern referral wellbeing emergency services support mental "
        "health",
        ["Crisis and self-harm calls", "Safeguarding referrals", "Vulnerable customers"],
        ["safeguarding", "crisis", "vulnerability"],
        ["self harm", "116 123", "call 999", "duty of care"],
    ),
    (
        "Anti-social behaviour",
        "noise nuisance neighbour asb harassment evidence diary "
        "witness injunction mediation graffiti drugs dog fouling report incident",
        ["Reporting anti-social behaviour", "Noise nuisance", "Neighbour disputes"],
        ["asb", "noise", "neighbours"],
        ["anti-social behaviour", "noise diary", "hate crime"],
    ),
    (
        "Tenancy",
        "tenancy tenant agreement succession assignment exchange mutual joint "
        "sole sign terminate notice keys void lettings allocation application",
        ["Ending a tenancy", "Mutual exchanges", "Succession rights"],
        ["tenancy", "keys"],
        ["four weeks notice", "mutual exchange", "joint tenancy"],
    ),
    (
        "Call handling",
        "call caller hold transfer handover greeting script queue wrap "
        "callback voicemail abandon answer seconds quality monitoring coaching phonetic",
        ["Hold etiquette", "Warm handovers", "Call quality", "Phonetic alphabet"],
        ["calls", "hold", "transfer"],
        ["warm handover", "on hold", "20 seconds", "nato alphabet"],
    ),
    (
        "Working practices",
        "fob swipe card door entry building access intercom security "
        "badge identification visit appointment home officer lone working",
        ["Swipe cards and fobs", "Home visits", "Lone working"],
        ["fob", "swipe card"],
        ["swipe card", "key fob", "door entry"],
    ),
]
COMMON = (
    "customer customers call agent advisor record system case details address contact "
    "team officer property confirm check information process procedure policy record "
    "notes manager service request update email letter phone number date time reference "
    "account log screen crm housing resident household landlord council association "
    "staff visit days hours week month follow action outcome advise explain ask offer "
    "provide arrange book cancel rebook priority response standard timescale escalate"
).split()
FILLER = (
    "the a to of and in for is on that with as be it by this are or if from at you "
    "will they we not can have any all their when which should must also may need "
    "make sure before after where there been has more than only then so what about "
    "into over out other such each do does used way first new same both well very"
).split()
SYLLABLES = (
    "ash bar bell brook burn by cliff coat dale den field ford gate ham hart hill "
    "holm hurst ing ley low mead mere moor ness oak pen ridge shaw stead stone ton wick "
    "wood worth bridge chester combe cot croft dean"
)
_CUMULATIVE: dict[int, list[float]] = {}
FIRST = "al ber car dor el fen gar hol ing jas kel lor mar nor os pel quin ros sel tor".split()


def _zipf_pick(rng: random.Random, words: list[str]) -> str:
    # Rank-weighted (Zipf-like) choice: early words are more common, as in real text.
    weights = _CUMULATIVE.get(len(words))
    if weights is None:
        weights = list(accumulate(1 / (rank + 3) for rank in range(len(words))))
        _CUMULATIVE[len(words)] = weights
    return rng.choices(words, cum_weights=weights)[0]


def _rare_words(rng: random.Random, n: int) -> list[str]:
    # Place names, surnames and jargon-like words: a realistic, large vocabulary.
    parts = SYLLABLES.split()
    out = set()
    while len(out) < n:
        out.add(rng.choice(FIRST) + rng.choice(parts) + rng.choice(["", *parts]))
    return sorted(out)


def generate(n: int, seed: int = 42) -> Iterator[Document]:
    """Yield ``n`` documents of about 400 words each; same seed, same corpus."""
    rng = random.Random(seed)
    rare = _rare_words(rng, 30000)
    base = datetime(2024, 1, 1)
    for i in range(n):
        category, topic, titles, tags, phrases = TOPICS[i % len(TOPICS)]
        topic_words = topic.split()
        rng.shuffle(topic_words)
        title = f"{rng.choice(titles)} {rng.choice(rare).title()} {i}"
        sentences = []
        words = 0
        while words < 400:
            length = rng.randint(8, 18)
            sentence = []
            for _ in range(length):
                r = rng.random()
                if r < 0.35:
                    sentence.append(rng.choice(FILLER))
                elif r < 0.62:
                    sentence.append(_zipf_pick(rng, COMMON))
                elif r < 0.9:
                    sentence.append(_zipf_pick(rng, topic_words))
                elif r < 0.96:
                    sentence.append(rng.choice(phrases))
                else:
                    sentence.append(rng.choice(rare))
            words += len(sentence)
            sentences.append(" ".join(sentence).capitalize() + ".")
        body = " ".join(sentences)
        summary = " ".join(sentences[0].split()[:20])
        doc_tags = [*tags, rng.choice(topic_words)]
        kind = "script" if i % 5 == 0 else "article"
        sha = hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()
        yield Document(
            slug=f"doc-{i:05d}",
            kind=kind,
            title=title,
            summary=summary,
            tags=doc_tags,
            category=category,
            body=body,
            sha256=sha,
            updated_at=base + timedelta(minutes=i),
        )

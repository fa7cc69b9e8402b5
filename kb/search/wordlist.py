"""A well-kept English word list (the one pyspellchecker ships), loaded once per process."""

from __future__ import annotations

import gzip
import json
import logging
from functools import lru_cache
from importlib import resources

log = logging.getLogger(__name__)

# Words seen fewer times than this in the list's corpus are mostly typos and names.
MIN_COUNT = 30


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Common English words in lower case; empty (never an error) if the list is missing."""
    try:
        data = resources.files("spellchecker").joinpath("resources/en.json.gz").read_bytes()
        counts = json.loads(gzip.decompress(data))
    except (ModuleNotFoundError, OSError, ValueError) as error:
        log.warning("English word list unavailable (%s); typo repair is less careful", error)
        return frozenset()
    return frozenset(word for word, count in counts.items() if count >= MIN_COUNT)


def is_english_word(word: str) -> bool:
    """Whether ``word`` (lower case) is a common English word."""
    return word in english_words()

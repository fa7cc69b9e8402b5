"""Real English words, from the frequency dictionary that ships with ``pyspellchecker``.

Two readers share it: "did you mean" never corrects a word in the whole list ("smell" is
not "spell"), and the crisis recogniser never "repairs" a common word into one of its own
("fridge" is not "bridge"). The dictionary is read once per process, on first use (about
0.15 s; 12 MB kept), and shared by every app in the process.
"""

from __future__ import annotations

import gzip
import json
import logging
from functools import lru_cache
from importlib import resources

log = logging.getLogger(__name__)

# Words seen fewer times than this in the list's corpus are mostly typos and names: fine
# to leave uncorrected, but too rare to stop a likely typo of a crisis word being read.
COMMON_COUNT = 30


@lru_cache(maxsize=1)
def _counts() -> dict[str, int]:
    """Alphabetic words of the packaged English dictionary with their corpus counts."""
    try:
        data = resources.files("spellchecker").joinpath("resources", "en.json.gz").read_bytes()
        counts = json.loads(gzip.decompress(data))
    except (ModuleNotFoundError, OSError, ValueError) as exc:
        # Without the list every unknown word counts as a possible typo, as before.
        log.warning("English word list unavailable (%s); typo checks use the index only", exc)
        return {}
    return {w: n for w, n in counts.items() if w.isalpha()}


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Every word of the list."""
    return frozenset(_counts())


@lru_cache(maxsize=1)
def common_english_words() -> frozenset[str]:
    """The words of the list seen at least COMMON_COUNT times."""
    return frozenset(w for w, n in _counts().items() if n >= COMMON_COUNT)


def is_english(word: str) -> bool:
    """Whether ``word`` (lower-case) is a real English word."""
    return word in english_words()


def is_common_english(word: str) -> bool:
    """Whether ``word`` (lower-case) is a common English word."""
    return word in common_english_words()

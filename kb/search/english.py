"""A list of real English words, so "did you mean" never corrects one ("smell" is not "spell").

The list is the English frequency dictionary that ships with ``pyspellchecker`` (pinned
in pyproject.toml), without the common misspellings: its 128,000 alphabetic words. It is
read once per process, on the first word the index does not know (about 0.15 s; 12 MB
kept), and shared by every app in the process.
"""

from __future__ import annotations

import gzip
import json
import logging
import threading
from importlib import resources

log = logging.getLogger(__name__)

_words: frozenset[str] | None = None
_lock = threading.Lock()


def _load() -> frozenset[str]:
    """Every alphabetic word of the packaged English dictionary, lower-case."""
    try:
        data = resources.files("spellchecker").joinpath("resources", "en.json.gz").read_bytes()
        counts = json.loads(gzip.decompress(data))
    except (ModuleNotFoundError, OSError, ValueError) as exc:
        # Without the list every unknown word counts as a possible typo, as before.
        log.warning("English word list unavailable (%s); typo checks use the index only", exc)
        return frozenset()
    return frozenset(w for w in counts if w.isalpha())


def english_words() -> frozenset[str]:
    """The word list, loaded on first use."""
    global _words
    if _words is None:
        with _lock:
            if _words is None:
                _words = _load()
    return _words


def is_english(word: str) -> bool:
    """Whether ``word`` (lower-case) is a real English word."""
    return word in english_words()

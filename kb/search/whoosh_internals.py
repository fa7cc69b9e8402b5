"""Every Whoosh internal search relies on, in one place, checked against the pinned version.

Whoosh has no public API for reading a posting list a block at a time, for a segment's
raw length column or for the index's table of contents, and those are where the speed
(kb/search/scoring.py) and the atomic rebuild swap (kb/search/index.py) come from. Each
internal is used here only; tests/test_whoosh_internals.py fails if an upgrade moves one,
and the readers fall back to the slower public route rather than break.
"""

from __future__ import annotations

import re
from array import array

import whoosh
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.codec.whoosh3 import W3PerDocReader as _PerDocReader
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, clean_files
from whoosh.matching import FilterMatcher
from whoosh.reading import IndexReader, TermNotFound
from whoosh.reading import SegmentReader as _LeafReader
from whoosh.util.filelock import try_for
from whoosh.util.numeric import byte_to_length, length_to_byte

__all__ = [
    "PINNED_VERSION", "TOC", "byte_to_length", "clean_files", "length_column",
    "latest_generation", "missing", "postings", "segment_pattern", "try_for",
]

# The whoosh-reloaded release these internals were read from (pyproject.toml pins it).
PINNED_VERSION = "2.7.5"

# What each internal is, for missing(): (owner, attribute names).
_ATTRIBUTES = {
    "W3LeafMatcher": (W3LeafMatcher, ("_read_ids", "_read_weights", "_next_block",
                                      "is_active", "id", "weight", "next", "_ids", "_weights")),
    "FilterMatcher": (FilterMatcher, ("child",)),
    "LeafReader": (_LeafReader, ("_perdoc",)),
    "LENGTHS_COLUMN.Reader": (type(LENGTHS_COLUMN).Reader, ("_dbfile", "_basepos", "_count")),
    "PerDocReader": (_PerDocReader, ("_cached_reader",)),
    "TOC": (TOC, ("_segment_pattern", "_latest_generation", "read", "write")),
}


def installed_version() -> str:
    """The installed whoosh version as "x.y.z"."""
    return whoosh.versionstring()


def missing() -> list[str]:
    """Names of the internals this module relies on that the installed whoosh lacks."""
    gone = []
    for name, (owner, attributes) in _ATTRIBUTES.items():
        # Instance attributes (FilterMatcher.child, W3LeafMatcher._ids) are only assigned
        # in methods, so look for the name in the code of the class and its bases.
        assigned = {
            attr for cls in owner.__mro__ for value in vars(cls).values()
            for attr in getattr(getattr(value, "__code__", None), "co_names", ())
        }
        for attribute in attributes:
            if not hasattr(owner, attribute) and attribute not in assigned:
                gone.append(f"{name}.{attribute}")
    if LENGTHS_COLUMN is None:
        gone.append("LENGTHS_COLUMN")
    return gone


def length_column(leaf: IndexReader, fieldname: str, *, fast: bool = True) -> bytes:
    """One whoosh length byte per document of a segment, read in one go when possible."""
    if fast:
        try:
            column = leaf._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
            return column._dbfile.get(column._basepos, column._count)
        except Exception:  # noqa: BLE001 - slower public route if internals moved
            pass
    docs = range(leaf.doc_count_all())
    return bytes(length_to_byte(leaf.doc_field_length(d, fieldname)) for d in docs)


def postings(leaf: IndexReader, fieldname: str, btext: bytes, *,
             fast: bool = True) -> tuple[array, array]:
    """All (docnum, term frequency) postings of a term in one segment, deletions included."""
    ids, weights = array("I"), array("f")
    try:
        m = leaf.postings(fieldname, btext)
    except TermNotFound:
        return ids, weights
    if isinstance(m, FilterMatcher):  # deletions: the caller skips them itself
        m = m.child
    if fast and isinstance(m, W3LeafMatcher):
        # Whole blocks at a time: one unpickle per block instead of calls per posting.
        while m.is_active():
            m._read_ids()
            m._read_weights()
            ids.extend(m._ids)
            weights.extend(m._weights)
            m._next_block()
    else:
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            m.next()
    return ids, weights


def segment_pattern(indexname: str) -> re.Pattern:
    """The file-name pattern of an index's segment files."""
    return TOC._segment_pattern(indexname)


def latest_generation(storage: FileStorage, indexname: str) -> int:
    """The newest table-of-contents generation in a folder (-1 when there is none)."""
    return TOC._latest_generation(storage, indexname)

"""The Whoosh search index: opening, repair, writes, catch-up and rebuilds.

The schema and documents are in documents.py, answering searches in searching.py."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex, LockError
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from kb.search.documents import (  # noqa: F401 - Document, Hit, Results are used from here
    Document,
    Hit,
    Results,
    build_schema,
    index_fields,
    same_schema,
)
from kb.search.query import DocFrequencies
from kb.search.scoring import FieldLengths
from kb.search.searching import MAX_LIMIT, Searching  # noqa: F401
from kb.search.synonyms import Spelling, Synonyms
from kb.search.whoosh_internals import (
    TOC,
    clean_files,
    latest_generation,
    segment_pattern,
    try_for,
)

log = logging.getLogger(__name__)

INDEX_NAME = "MAIN"
WRITELOCK = f"{INDEX_NAME}_WRITELOCK"
DEFAULT_SYNONYMS = Path(__file__).with_name("synonyms.txt")
PARALLEL_BUILD_FROM = 2000  # documents; below this, starting processes costs more
BATCH_SIZE = 500  # catch-up commits this often so other writers are not starved
STALE_BUILD_SECONDS = 6 * 3600
GENERATION_EPOCH = 1_700_000_000  # November 2023, in Unix seconds
REOPEN_INTERVAL = 5.0  # seconds between automatic repair attempts after a failure
BUSY_MESSAGE = (
    "The search index is busy being updated by another task. Your change is saved; "
    "please try again in a minute (the index will also catch up on its own)."
)


class IndexBusy(Exception):
    """The index writer lock could not be obtained in time."""


def _storage(path: Path) -> FileStorage:
    # No mmap: a segment file truncated or overwritten under a live mmap kills the
    # process with SIGBUS, and the index must survive a damaged directory.
    return FileStorage(str(path), supports_mmap=False)


def _index_files(path: Path) -> list[str]:
    """Names in the index directory other than the lock file and writer temp dirs."""
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return []
    return [n for n in names if n != WRITELOCK and not n.endswith(".tmp")]


class SearchIndex(Searching):
    """A Whoosh index in one directory, safe to share between processes."""

    def __init__(
        self,
        index_dir: str | Path,
        synonyms_path: str | Path | None = None,
        writer_timeout: float = 30.0,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.writer_timeout = writer_timeout
        self.synonyms = Synonyms(synonyms_path or DEFAULT_SYNONYMS)
        self.schema = build_schema()
        self._ix: FileIndex | None = None
        self._searcher: Searcher | None = None
        self._filters: dict[tuple[str, str], set[int]] = {}
        self._spelling = Spelling()
        self._lengths = FieldLengths()
        self._df: DocFrequencies | None = None  # for the current searcher's reader
        # One lock for the whole search: whoosh searchers share file handles, and
        # swapping a searcher while another thread reads from it would break that read.
        self._lock = threading.RLock()
        self._error: str | None = None
        self._last_attempt = 0.0
        self._needs_refill = False  # recreated empty after corruption; catch_up clears it
        self._opened_once = False
        # Bumped whenever a different searcher (so possibly a different index) is in use,
        # so the watermark is read once per version of the index, not once per question.
        self._serial = 0
        self._marks: tuple[int, dict[str, str]] | None = None

    # ----- opening and repair -------------------------------------------------

    def ensure(self) -> str:
        """Open the index, creating it if missing and recreating it empty if corrupt."""
        with self._lock:
            return self._ensure(self.writer_timeout)

    def _ensure(self, lock_timeout: float) -> str:
        self._close_searcher()
        self._ix = None
        self._last_attempt = time.monotonic()
        had_files, was_open = bool(_index_files(self.index_dir)), self._opened_once
        self.index_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._open()
            return "ok"
        except Exception as exc:  # noqa: BLE001 - any read failure means "corrupt"
            reason = f"{type(exc).__name__}: {exc}"
        storage = _storage(self.index_dir)
        lock = storage.lock(WRITELOCK)
        if not try_for(lock.acquire, timeout=lock_timeout, delay=0.05):
            raise IndexBusy(BUSY_MESSAGE)
        try:
            try:  # another process may have repaired it while we waited
                self._open()
                return "ok"
            except Exception:  # noqa: BLE001
                pass
            if had_files:
                log.warning("Search index %s unreadable (%s); recreating", self.index_dir, reason)
            # A fresh, empty generation newer than anything on disk, so searchers in
            # other processes notice the change; clean_files removes the debris.
            generation = _next_generation(storage)
            TOC(self.schema, [], generation).write(storage, INDEX_NAME)
            clean_files(storage, INDEX_NAME, generation, [])
        finally:
            lock.release()
        self._open()
        # Documents were lost (or never there); health() says so until catch_up runs.
        self._needs_refill = had_files or was_open
        return "recreated" if had_files else "created"

    def _open(self) -> None:
        """Open the latest generation and prove its files are readable."""
        ix = FileIndex(_storage(self.index_dir), indexname=INDEX_NAME)
        if not same_schema(ix.schema, self.schema):
            # Built by an older version (fields or analysis changed): treat as unreadable,
            # so it is recreated and refilled rather than searched with mismatched terms.
            raise ValueError("index schema is out of date")
        searcher = ix.searcher()
        try:
            for leaf, _offset in searcher.reader().leaf_readers():
                # Touch every structure a search reads, so garbage shows up here.
                next(iter(leaf.lexicon("slug")), None)
                next(iter(leaf.lexicon("words")), None)
                live = next(iter(leaf.all_doc_ids()), None)
                if live is not None:
                    leaf.stored_fields(live)
                    leaf.column_reader("sha256")[live]
        except Exception:
            searcher.close()
            raise
        self._ix, self._searcher, self._error = ix, searcher, None
        self._filters = {}
        self._opened_once = True
        self._serial += 1

    def _close_searcher(self) -> None:
        if self._searcher is not None:
            try:
                self._searcher.close()
            except Exception:  # noqa: BLE001 - closing a broken searcher is best effort
                pass
            self._searcher = None
        self._filters = {}

    def _current(self) -> Searcher:
        """The shared searcher, replaced by a fresh one if any process has committed."""
        if self._ix is None or self._searcher is None:
            try:
                self._open()
            except Exception:
                if time.monotonic() - self._last_attempt < REOPEN_INTERVAL:
                    raise
                # From the read path, wait only briefly for a writer holding the lock.
                self._ensure(lock_timeout=min(1.0, self.writer_timeout))
        elif not self._searcher.up_to_date():
            # Never Searcher.refresh(): it reuses segment readers and can return stale
            # duplicates after update_document. A fresh searcher is always correct.
            for attempt in range(3):
                try:
                    fresh = self._ix.searcher()
                    break
                except FileNotFoundError:
                    # A commit elsewhere removed the segments we were about to open.
                    if attempt == 2:
                        raise
            self._close_searcher()
            self._searcher = fresh
            self._serial += 1
        assert self._searcher is not None
        return self._searcher

    def recover(self, exc: BaseException) -> bool:
        """After a failed round of the background follower: reopen the index (recreating
        it empty if it is unreadable, at most every REOPEN_INTERVAL), without logging
        (the follower logs once). True if it reopened."""
        with self._lock:
            return self._failed(exc, quiet=True)

    def _failed(self, exc: BaseException, quiet: bool = False) -> bool:
        """Record a failure and reopen the index; True if it reopened cleanly."""
        self._error = f"{type(exc).__name__}: {exc}"
        if not quiet:
            log.error("Search index error: %s", self._error, exc_info=exc)
        self._close_searcher()
        self._ix = None
        try:
            self._current()  # reopens, or repairs if unreadable (at most every few seconds)
            return True
        except Exception as again:  # noqa: BLE001 - stay up; health() tells the story
            self._error = f"{type(again).__name__}: {again}"
            return False

    # ----- writing -------------------------------------------------------------

    def _writer(self, timeout: float | None = None):
        """A whoosh writer, waiting up to ``timeout`` (default writer_timeout) for another
        process's lock."""
        for attempt in range(2):
            if self._ix is None:
                self.ensure()
            assert self._ix is not None
            try:
                return self._ix.writer(timeout=self.writer_timeout if timeout is None
                                       else timeout, delay=0.05)
            except LockError as exc:
                raise IndexBusy(BUSY_MESSAGE) from exc
            except Exception:
                # The directory changed under us (deleted, rebuilt, damaged): reopen or
                # repair once, then give up loudly.
                if attempt:
                    raise
                self._close_searcher()
                self._ix = None
        raise AssertionError("unreachable")

    def index_document(self, doc: Document) -> None:
        """Add or replace one document (by slug); searches see it once this returns."""
        with self._lock:
            writer = self._writer()
            try:
                writer.update_document(**index_fields(doc))
            except BaseException:
                writer.cancel()
                raise
            writer.commit()

    def remove(self, slug: str) -> None:
        """Remove a document by slug (no error if it is not indexed)."""
        with self._lock:
            writer = self._writer()
            try:
                writer.delete_by_term("slug", slug)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()

    def rebuild(
        self,
        docs: Iterable[Document],
        total: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Index ``docs`` in a directory beside the live index, then swap it in; returns count."""
        # Searches keep answering from the old index during the build. Writes other
        # processes make meanwhile are replaced by the swap: run catch_up afterwards.
        # ``progress`` gets the running count about every 1% (or 100 documents).
        self.index_dir.parent.mkdir(parents=True, exist_ok=True)
        prefix = f".{self.index_dir.name}.rebuild-"
        for old in self.index_dir.parent.glob(f"{prefix}*"):
            # Left by a rebuild that crashed (a real one takes minutes, not hours).
            if time.time() - old.stat().st_mtime > STALE_BUILD_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
        build_dir = self.index_dir.with_name(f"{prefix}{uuid.uuid4().hex}")
        every = max(1, total // 100) if total else 100
        count = 0
        try:
            build = _storage(build_dir).create()
            fresh = FileIndex.create(build, self.schema, INDEX_NAME)
            if (total or 0) >= PARALLEL_BUILD_FROM and (os.cpu_count() or 1) > 1:
                # Analysis and posting sorts are pure Python: one process per core halves
                # a 10,000-article rebuild. Each process leaves its own segment.
                writer = fresh.writer(limitmb=256, procs=min(os.cpu_count() or 1, 4),
                                      multisegment=True)
            else:
                writer = fresh.writer(limitmb=256)
            try:
                for doc in docs:
                    writer.add_document(**index_fields(doc))
                    count += 1
                    if progress and count % every == 0:
                        progress(count)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            self._swap_in(build_dir)
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)
        if progress:
            progress(count)
        return count

    def _swap_in(self, build_dir: Path) -> None:
        """Publish a finished index as the next generation of the live directory."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        live = _storage(self.index_dir)
        lock = live.lock(WRITELOCK)
        if not try_for(lock.acquire, timeout=self.writer_timeout, delay=0.05):
            raise IndexBusy(BUSY_MESSAGE)
        try:
            toc = TOC.read(_storage(build_dir), INDEX_NAME)
            pattern = segment_pattern(INDEX_NAME)
            # Segment names are random, so they cannot collide with live ones; rename
            # is atomic and instant on the same filesystem.
            for name in os.listdir(build_dir):
                if pattern.match(name):
                    os.replace(build_dir / name, self.index_dir / name)
            toc.generation = _next_generation(live)
            toc.write(live, INDEX_NAME)
            clean_files(live, INDEX_NAME, toc.generation, toc.segments)
        finally:
            lock.release()
        with self._lock:
            self._close_searcher()
            self._ix = None
            self._open()
            self._needs_refill = False

    @property
    def needs_refill(self) -> bool:
        """True after a corrupt index was recreated empty and before catch_up refills it."""
        return self._needs_refill

    def refilled(self) -> None:
        """Forget a recreation seen earlier: the index has since been found in step."""
        self._needs_refill = False

    def indexed(self) -> dict[str, str]:
        """slug -> sha256 of every document in the index (the watermark)."""
        with self._lock:
            searcher = self._current()
            if self._marks is None or self._marks[0] != self._serial:
                self._marks = (self._serial, _watermark(searcher.reader()))
            return dict(self._marks[1])

    def catch_up(self, current: dict[str, str], load: Callable[[str], Document],
                 lock_timeout: float | None = None) -> dict:
        """Index what changed in the database and drop what it no longer has; returns counts."""
        # {"added", "updated", "removed"}, plus "failed": slugs whose ``load`` raised
        # (skipped, so one bad article cannot block the rest; retried next time).
        # ``lock_timeout``: how long to wait for another process's writer lock (default
        # writer_timeout) before IndexBusy; the background follower waits only briefly.
        indexed = self.indexed()
        plan = _diff(indexed, current)
        failed: list[str] = []

        def loaded(slugs: list[str]) -> Iterator[tuple[str, Document]]:
            for slug in slugs:
                try:
                    yield slug, load(slug)
                except Exception:  # noqa: BLE001 - one bad article must not stop the rest
                    log.exception("Could not load %r for the search index", slug)
                    failed.append(slug)

        if not indexed and len(plan["added"]) > BATCH_SIZE:
            # Refilling an empty index (after a wipe): one fresh segment is far cheaper
            # than many batch commits, each merging the segments before it.
            count = self.rebuild((doc for _, doc in loaded(plan["added"])), len(plan["added"]))
            done: dict = {"added": count, "updated": 0, "removed": 0}
        else:
            done = (self._apply(current, loaded, lock_timeout) if any(plan.values())
                    else _counts())
        self._needs_refill = False
        if failed:
            done["failed"] = failed
        return done

    def _apply(self, current: dict[str, str], loaded: Callable,
               lock_timeout: float | None = None) -> dict:
        """Write a catch-up's changes, committing in batches."""
        done = _counts()
        with self._lock:
            writer = self._writer(lock_timeout)
            try:
                # Re-diff under the lock: another worker may have done part of it already.
                plan = _diff(_watermark(writer.reader()), current)
                if not any(plan.values()):
                    # All done elsewhere: an empty commit would only make every other
                    # worker on this host reopen its searcher.
                    writer.cancel()
                    return done
                pending = 0
                for key in ("added", "updated"):
                    for _slug, doc in loaded(plan[key]):
                        writer.update_document(**index_fields(doc))
                        done[key] += 1
                        pending += 1
                        if pending >= BATCH_SIZE:
                            # Commit in batches so editors' saves are not locked out for long.
                            writer.commit()
                            writer, pending = None, 0
                            writer = self._writer(lock_timeout)
                for slug in plan["removed"]:
                    writer.delete_by_term("slug", slug)
                    done["removed"] += 1
            except BaseException:
                if writer is not None:
                    writer.cancel()
                raise
            writer.commit()
        return done

    def health(self) -> dict:
        """{"documents": N, "status": "ok"}, "degraded" or "error" with a reason; never raises."""
        # Reasons name the kind of failure only: exception messages carry file paths,
        # and health is public. The full error goes to the log.
        with self._lock:
            try:
                documents = self._current().doc_count()
            except Exception as exc:  # noqa: BLE001
                reason = f"the index cannot be opened ({type(exc).__name__})"
                # Logs what it saw, then reopens or recreates it; if that worked, report
                # what is there now (an index recreated empty is "degraded", below).
                if not self._failed(exc):
                    return {"documents": 0, "status": "error", "reason": reason}
                try:
                    documents = self._current().doc_count()
                except Exception:  # noqa: BLE001
                    return {"documents": 0, "status": "error", "reason": reason}
            if self._needs_refill:
                reason = "the index was unreadable and has been recreated; it needs a catch-up"
                return {"documents": documents, "status": "degraded", "reason": reason}
            return {"documents": documents, "status": "ok"}


def _next_generation(storage: FileStorage) -> int:
    """A generation number for a new index that no earlier index in this folder used."""
    # A worker whose folder was deleted under it still holds a searcher on generation N;
    # if the recreated index counted up from 0 to N again, that worker would think its
    # stale searcher current. Seconds since 2023 (whoosh stores a 32-bit number) only
    # come round again if the old index averaged more than one commit a second.
    return max(latest_generation(storage, INDEX_NAME) + 1,
               int(time.time()) - GENERATION_EPOCH)


def _watermark(reader: IndexReader) -> dict[str, str]:
    marks: dict[str, str] = {}
    for leaf, _offset in reader.leaf_readers():
        if not leaf.doc_count():
            continue
        # Columns avoid unpickling every stored body just to read two short values.
        slugs, shas = leaf.column_reader("slug"), leaf.column_reader("sha256")
        for docnum in leaf.all_doc_ids():
            marks[slugs[docnum]] = shas[docnum]
    return marks


def _counts() -> dict:
    return {"added": 0, "updated": 0, "removed": 0}


def _diff(indexed: dict[str, str], current: dict[str, str]) -> dict[str, list[str]]:
    return {
        "added": [s for s in current if s not in indexed],
        "updated": [s for s in current if s in indexed and indexed[s] != current[s]],
        "removed": [s for s in indexed if s not in current],
    }

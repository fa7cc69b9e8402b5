"""The background follower: each serving process keeps its search index in step with the
database, so what another host publishes is searchable here within a couple of seconds.

Every KB_INDEX_FOLLOW_SECONDS a daemon thread reads the database's change watermark (a few
aggregates per kind of document: count, newest update, newest and sum of current version
ids) and, when it moved (or a search here found the index lost and recreated it empty),
catches the index up. Every FULL_CHECK_SECONDS it compares
fingerprints in full whatever the watermark says: the safety net for a change the
watermark cannot see (a metadata edit stamped by a host whose clock runs behind, or a
slow transaction committing an older timestamp after a newer one).

Started by gunicorn (``post_worker_init`` in gunicorn.conf.py) in each worker, never by
create_app: test apps and CLI commands do not follow. ``start(app)``, ``stop()``.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask

from kb.extensions import db
from kb.search import services
from kb.search.engine import IndexBusy

log = logging.getLogger(__name__)

FULL_CHECK_SECONDS = 60.0
# How long a round waits for another process's index writer lock before leaving the
# work to it (the next round looks again); searches in this process wait meanwhile.
LOCK_TIMEOUT = 0.2

_lock = threading.Lock()
_running: Follower | None = None


class Follower:
    """One process's follower thread for one app."""

    def __init__(self, app: Flask, interval: float,
                 full_check: float = FULL_CHECK_SECONDS) -> None:
        self.app = app
        self.interval = interval
        self.full_check = full_check
        self.seen: tuple | None = None  # the watermark the index was last in step with
        self.last_full = float("-inf")
        self.rounds = 0  # rounds that wrote to the index
        self.failures = 0  # rounds that failed
        self._failing: str | None = None  # the last failure while failing, else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.pid = os.getpid()

    def start(self) -> None:
        """Start the daemon thread (one round at once, then every ``interval``)."""
        self._thread = threading.Thread(target=self._run, name="kb-index-follower",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Ask the thread to stop and wait for it (up to ``timeout``); True if it ended."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def alive(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.step()
            self._stop.wait(self.interval)

    def step(self) -> str:
        """One round: "unchanged", "in step", "caught up", "busy" or "failed". Never raises."""
        try:
            with self.app.app_context():
                try:
                    return self._step()
                finally:
                    # Never leave a transaction (or a connection) held between rounds.
                    db.session.rollback()
        except IndexBusy:
            log.debug("Index follower: another process is writing the index; next round")
            return "busy"
        except Exception as error:  # noqa: BLE001 - the thread must outlive any failure
            message = f"{type(error).__name__}: {error}"
            self.failures += 1
            self._recover(error)
            if self._failing is None:  # once per spell of failures, not every round
                log.warning("Index follower could not catch up: %s (retrying every %.1f s)",
                            message, self.interval)
            else:
                log.debug("Index follower still failing: %s", message)
            self._failing = message
            return "failed"

    def _recover(self, error: Exception) -> None:
        """Reopen (or recreate) the index after a failed round, as a search would."""
        try:
            with self.app.app_context():
                services.get_index().recover(error)
        except Exception:  # noqa: BLE001 - the next round tries again
            pass

    def _step(self) -> str:
        index = services.get_index()
        index.indexed()  # cheap unless the index changed: notices one lost or replaced
        watermark = services.database_watermark()
        now = time.monotonic()
        if (watermark == self.seen and now - self.last_full < self.full_check
                and not index.needs_refill):
            return "unchanged"
        result = services.follow_database(LOCK_TIMEOUT)
        # The watermark was read before the fingerprints: anything committed since then
        # moves it again, and the next round catches that up.
        self.seen, self.last_full = watermark, now
        if self._failing:
            log.info("Index follower is catching up again")
            self._failing = None
        changed = result["added"] + result["updated"] + result["removed"]
        if not changed:
            return "in step"
        self.rounds += 1
        log.info("Index follower: %d added, %d updated, %d removed", result["added"],
                 result["updated"], result["removed"])
        return "caught up"


def start(app: Flask) -> Follower | None:
    """Start this process's follower for ``app`` (None when KB_INDEX_FOLLOW_SECONDS is 0).

    Call it in each worker after the fork (a thread started before a fork does not run
    in the child); a second call in the same process returns the running follower.
    """
    global _running
    interval = float(app.config.get("KB_INDEX_FOLLOW_SECONDS") or 0)
    if interval <= 0:
        return None
    with _lock:
        if _running is not None and _running.pid == os.getpid() and _running.alive:
            return _running
        _running = Follower(app, interval)
        _running.start()
        return _running


def stop(timeout: float = 5.0) -> bool:
    """Stop this process's follower, if one runs; True when none is left running."""
    global _running
    with _lock:
        follower, _running = _running, None
    if follower is None or follower.pid != os.getpid():
        return True
    return follower.stop(timeout)

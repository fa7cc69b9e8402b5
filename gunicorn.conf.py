"""Gunicorn settings read from the working directory (``make run``, the benchmarks).

The bind address, worker count and logging come from the command line (Makefile)."""

from __future__ import annotations

import gc
import sys

# A worker exiting with this code makes gunicorn stop ("Worker failed to boot") instead
# of starting it again and again.
WORKER_BOOT_ERROR = 3


def post_worker_init(worker) -> None:
    """Check the shared rate-limit store, freeze the heap, then start the index follower.

    gc.freeze moves everything a worker has loaded by now (modules, the app, its
    templates) into the collector's permanent generation, so a full collection no longer
    walks it. At 500 people × 30 standards one dashboard request in ten took twice the
    median while the collector walked the whole heap (bench/signoffs.py: p95 231 ms in
    process, 145 ms with this). The follower starts after the freeze: its first round
    may fill the index, and that garbage must stay collectable.
    """
    from flask import Flask

    from kb.auth.services import rate_limit_store_problem
    from kb.search import follow

    app = worker.wsgi if isinstance(worker.wsgi, Flask) else None
    if app is not None:
        problem = rate_limit_store_problem(app)
        if problem and app.config["ENV_NAME"] == "production":
            # One line, then stop: every host would otherwise count sign-in failures on
            # its own, and nobody would notice.
            worker.log.error(problem)
            sys.exit(WORKER_BOOT_ERROR)
        if problem:
            worker.log.warning("%s Counting in this process meanwhile.", problem)
    gc.freeze()
    if app is None:
        worker.log.warning("Not a Flask app: the search index catches up only at searches")
    else:
        follow.start(app)


def worker_exit(server, worker) -> None:
    """Stop the index follower cleanly (it finishes the round it is in)."""
    from kb.search import follow

    follow.stop()

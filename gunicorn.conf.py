"""Gunicorn settings read from the working directory (``make run``, the benchmarks).

The bind address, worker count and logging come from the command line (Makefile)."""

from __future__ import annotations

import gc


def post_worker_init(worker) -> None:
    """Move everything a worker has loaded by now (modules, the app, its templates) into
    the collector's permanent generation, so a full collection no longer walks it. At
    500 people × 30 standards one dashboard request in ten took twice the median while
    the collector walked the whole heap (bench/signoffs.py: p95 231 ms in process, 145 ms
    with this)."""
    gc.freeze()

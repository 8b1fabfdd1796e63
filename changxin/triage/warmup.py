"""Load triage's models once when a process starts, not on its first demand.

The job worker (`changxin worker`) calls `warm_up(database=True)` before it takes jobs: the
classifier, jieba's dictionary, the shingle table and the gazetteer (read from the database).
Web processes call `warm_up()` from changxin/wsgi.py while gunicorn boots the worker (with
`--preload`, once in the master, shared by every forked worker): the same minus the gazetteer, since
a connection opened before a fork must not be shared; the web side only needs the models for the
reply check and similar cases. Failures are logged and never stop the process: every model still
loads lazily on first use.
"""

from __future__ import annotations

import contextlib
import logging
import time

log = logging.getLogger(__name__)


def warm_up(*, database: bool = False) -> dict[str, float]:
    """Load what triage needs; returns seconds per part (for the log)."""
    timings: dict[str, float] = {}

    def step(name, fn):
        started = time.perf_counter()
        try:
            fn()
        except Exception:  # noqa: BLE001 — a missing model must not stop a server from starting
            log.warning("warm-up of %s failed; it will load on first use", name, exc_info=True)
        timings[name] = round(time.perf_counter() - started, 3)

    def classifier():
        from changxin.triage.classifier import NoModelError, load_model

        with contextlib.suppress(NoModelError):
            load_model()

    def segmenter():
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()

    def shingles():
        from changxin.triage.duplicates import _table

        _table()

    step("classifier", classifier)
    step("jieba", segmenter)
    step("shingles", shingles)
    if database:
        from django.db import connections

        from changxin.triage.gazetteer import get_gazetteer

        step("gazetteer", get_gazetteer)
        connections.close_all()
    log.info("triage warm-up: %s", timings)
    return timings

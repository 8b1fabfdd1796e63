"""TEMPORARY stand-in until the job-queue branch lands (runs jobs inline). Same interface."""

from django.db import transaction


def task(*args, **kwargs):
    def wrap(fn):
        return fn

    return wrap


def periodic(*args, **kwargs):
    def wrap(fn):
        return fn

    return wrap


def enqueue(fn, *args, **kwargs):
    return fn(*args, **kwargs)


def enqueue_on_commit(fn, *args, **kwargs):
    transaction.on_commit(lambda: fn(*args, **kwargs), robust=True)


def drain(max_jobs=None) -> int:
    return 0

"""TEMPORARY stand-in until the job-queue branch lands (runs jobs inline)."""


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

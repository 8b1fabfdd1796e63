"""Background jobs: the one interface apps use (they never import huey).

An app declares its jobs in its `tasks.py`:

    from changxin.core import jobs

    @jobs.task(retries=3, retry_delay=30)
    def send_reply_sms(demand_id: int) -> None: ...

    @jobs.periodic(minute="*/5")
    def refresh_hot_spots() -> dict: ...

and queues work after the transaction that makes it necessary commits:

    jobs.enqueue_on_commit(send_reply_sms, demand.pk)

Calling a job (`send_reply_sms(pk)`) runs it here and now; `.enqueue(...)` queues it for a worker
(`changxin worker`) or for `changxin tick` (cron), which runs the periodic jobs due this minute and
then `drain()`s the queue. Failures are retried (`retries`, `retry_delay` seconds apart); a job
that fails for the last time is logged at ERROR and recorded as a `core.JobFailure` row, which
district administrators see in the admin.

The queue is not part of the database transaction: a job can be lost between a commit and its
enqueue (a crash, the queue's store down). So a job that matters is recoverable from the database
(e.g. by a periodic catch-up job reading a cursor), and arguments are ids, never model instances.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from huey import crontab
from huey import signals as huey_signals
from huey.contrib.djhuey import HUEY

logger = logging.getLogger("changxin.jobs")

# Set in a consumer's worker threads: there each job opens and closes its own database connections
# (as huey's db_task does). Jobs run by drain(), tick or immediate mode share the caller's connection
# — and its transaction, in tests — which must not be closed under it.
_consumer = threading.local()


@HUEY.on_startup()
def _mark_consumer_thread() -> None:
    _consumer.active = True


def _closing_connections(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def run(*args, **kwargs):
        if not getattr(_consumer, "active", False):
            return fn(*args, **kwargs)
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return run


def _default_name(fn: Callable) -> str:
    """`changxin.demands.tasks.escalate_overdue` → `demands.escalate_overdue`."""
    module = fn.__module__.removeprefix("changxin.").removesuffix(".tasks")
    return f"{module}.{fn.__name__}"


class Job:
    """A declared background job. Call it to run it now; `enqueue` it to run it in the background."""

    def __init__(self, fn: Callable, huey_task, name: str):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = name
        self._task = huey_task

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Job {self.name}>"

    def enqueue(self, *args, **kwargs) -> str:
        """Queue one run with these (serialisable) arguments; returns the queued job's id."""
        message = self._task.s(*args, **kwargs)
        HUEY.enqueue(message)
        return message.id

    def enqueue_on_commit(self, *args, **kwargs) -> None:
        enqueue_on_commit(self, *args, **kwargs)


def task(fn: Callable | None = None, *, retries: int = 3, retry_delay: int = 30, name: str | None = None):
    """Declare a background job: `@jobs.task` or `@jobs.task(retries=…, retry_delay=…)`."""

    def declare(fn: Callable) -> Job:
        job_name = name or _default_name(fn)
        huey_task = HUEY.task(retries=retries, retry_delay=retry_delay, name=job_name)(
            _closing_connections(fn)
        )
        return Job(fn, huey_task, job_name)

    return declare(fn) if fn is not None else declare


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    schedule: str  # crontab fields, local time: "minute hour day month day_of_week"
    job: Job
    is_due: Callable[[dt.datetime], bool]


_periodic: dict[str, PeriodicJob] = {}


def periodic(
    minute: str = "*",
    hour: str = "*",
    day: str = "*",
    month: str = "*",
    day_of_week: str = "*",
    *,
    name: str | None = None,
    retries: int = 0,
    retry_delay: int = 30,
):
    """Declare a periodic job on a crontab schedule in local time (TIME_ZONE).

    A worker runs it when due; `changxin tick` (cron, every minute) runs the ones due that minute.
    A periodic job should be idempotent: it may run late, twice, or be skipped while nothing runs.
    """

    def declare(fn: Callable) -> Job:
        job_name = name or _default_name(fn)
        if job_name in _periodic:
            raise ValueError(f"a periodic job named {job_name!r} is already registered")
        schedule = crontab(minute, hour, day, month, day_of_week, strict=True)
        huey_task = HUEY.periodic_task(schedule, retries=retries, retry_delay=retry_delay, name=job_name)(
            _closing_connections(fn)
        )
        job = Job(fn, huey_task, job_name)
        _periodic[job_name] = PeriodicJob(
            job_name, f"{minute} {hour} {day} {month} {day_of_week}", job, schedule
        )
        return job

    return declare


def enqueue(job: Job, *args, **kwargs) -> str:
    return job.enqueue(*args, **kwargs)


def enqueue_on_commit(job: Job, *args, using: str | None = None, **kwargs) -> None:
    """Queue the job once the current transaction commits (at once outside a transaction).

    Nothing is queued if the transaction rolls back. A failure to queue (the queue's store down) is
    logged and does not fail the request whose data is already committed.
    """

    def queue() -> None:
        job.enqueue(*args, **kwargs)

    transaction.on_commit(queue, using=using, robust=True)


def queue_length() -> int:
    """Jobs waiting in the queue's store (raises if the store is unreachable): the health probe's."""
    return HUEY.pending_count()


def discover() -> None:
    """Import every installed app's `tasks` module, so every job is declared."""
    autodiscover_modules("tasks")


def registered_periodic() -> list[PeriodicJob]:
    discover()
    return sorted(_periodic.values(), key=lambda p: p.name)


def _local_minute(now: dt.datetime | None) -> dt.datetime:
    """The naive local time huey's crontab checks (the consumer runs with utc=False)."""
    return timezone.localtime(now).replace(tzinfo=None, second=0, microsecond=0)


def run_periodic_once(*, due_at: dt.datetime | None = None) -> dict[str, Any]:
    """Run every registered periodic job once, here, each on its own; or only those due at `due_at`.

    Returns {name: result, or the exception it raised}. A failure is logged and recorded like a
    worker's, and does not stop the other jobs.
    """
    results: dict[str, Any] = {}
    minute = _local_minute(due_at) if due_at is not None else None
    for periodic_job in registered_periodic():
        if minute is not None and not periodic_job.is_due(minute):
            continue
        try:
            results[periodic_job.name] = periodic_job.job()
        except Exception as exc:
            logger.exception("periodic job %s failed", periodic_job.name)
            _record_failure(periodic_job.name, (), {}, exc, attempts=1, job_id="")
            results[periodic_job.name] = exc
    return results


def drain(max_jobs: int | None = None, *, include_delayed: bool = False) -> int:
    """Run the queued jobs in this process, as a worker would; returns how many ran.

    Jobs queued by those jobs run too, and so do retries and scheduled jobs once their time has
    come; with `include_delayed` also before it (tests, or catching up without waiting).
    """
    discover()
    ran = 0
    while max_jobs is None or ran < max_jobs:
        message = HUEY.dequeue()
        if message is None:
            now = HUEY._get_timestamp()
            due = HUEY.read_schedule(now + dt.timedelta(days=36500) if include_delayed else now)
            if not due:
                break
            for scheduled in due:
                scheduled.eta = None
                HUEY.storage.enqueue(HUEY.serialize_task(scheduled), scheduled.priority)
            continue
        HUEY.execute(message)
        ran += 1
    return ran


def pending_count() -> int:
    """Jobs waiting in the queue (not counting delayed retries)."""
    return HUEY.pending_count()


# --- Failures ------------------------------------------------------------------------------------


def _record_failure(name: str, args, kwargs, exc: BaseException, *, attempts: int, job_id: str) -> None:
    from changxin.core.models import JobFailure

    try:
        JobFailure.objects.create(
            job=name[:200],
            job_id=job_id or "",
            arguments=_arguments_repr(args, kwargs),
            error=f"{exc!r}\n\n{''.join(traceback.format_exception(exc))}",
            attempts=attempts,
        )
    except Exception:
        logger.exception("could not record the failure of job %s", name)


def _arguments_repr(args, kwargs) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in (kwargs or {}).items()]
    text = ", ".join(parts)
    return text if len(text) <= 2000 else text[:1999] + "…"


@HUEY.signal(huey_signals.SIGNAL_ERROR)
def _on_error(signal, message, exc=None) -> None:
    if message.retries:  # huey retries it; only the last failure is a failure
        logger.warning("job %s failed, %s retries left: %r", message.name, message.retries, exc)
        return
    attempts = type(message).default_retries + 1
    logger.error("job %s failed after %s attempts: %r", message.name, attempts, exc)
    _record_failure(message.name, message.args, message.kwargs, exc, attempts=attempts, job_id=message.id)

"""Reads of the insight dashboards and rankings from a PostgreSQL read replica (docs/DEPLOY.md).

With DATABASE_REPLICA_URL set, settings add the database alias "replica" and this router. Code
that only reads and tolerates data a second or so old — the 三率 rankings, dashboards, drill-downs,
exports — runs inside `replica_reads()`; there, every read goes to the replica. Everything else,
every write, every read inside a transaction the request opened on the primary, and every read of
sign-in state (sessions, users, API keys, login attempts: a fresh login must not look signed out
because the replica lags) go to "default". Without a replica the router sends everything to
"default".

`ReplicaReadsMiddleware` opens `replica_reads()` for GET/HEAD requests whose path starts with one
of CHANGXIN_REPLICA_PATHS (default: the insight pages and their API). A POST there (an appeal) is
not wrapped: what it reads before writing comes from the primary.
"""

from __future__ import annotations

import contextlib
import contextvars

from django.conf import settings
from django.db import connections

REPLICA = "replica"
PRIMARY = "default"

_reading_replica: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "changxin_replica_reads", default=False
)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextlib.contextmanager
def replica_reads():
    """Reads inside the block go to the replica (when one is configured); writes stay on the primary."""
    token = _reading_replica.set(True)
    try:
        yield
    finally:
        _reading_replica.reset(token)


# sign-in state is always read from the primary
PRIMARY_ONLY_APPS = frozenset({"sessions", "auth", "axes", "api", "contenttypes", "admin"})
PRIMARY_ONLY_MODELS = frozenset({"core.user"})


def _in_transaction_on_primary() -> bool:
    # (the transaction a TestCase wraps every test in does not count)
    blocks = connections[PRIMARY].atomic_blocks
    return any(not getattr(block, "_from_testcase", False) for block in blocks)


def read_alias(model=None) -> str:
    """Where a read (of `model`) issued here and now goes."""
    if not _reading_replica.get() or not replica_configured() or _in_transaction_on_primary():
        return PRIMARY
    if model is not None and (
        model._meta.app_label in PRIMARY_ONLY_APPS or model._meta.label_lower in PRIMARY_ONLY_MODELS
    ):
        return PRIMARY
    return REPLICA


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return read_alias(model)

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # the replica is a copy of the primary: objects from either may be related
        return {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA, None}

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY  # the replica follows the primary's schema by replication


class ReplicaReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = tuple(getattr(settings, "CHANGXIN_REPLICA_PATHS", ()))

    def __call__(self, request):
        url_path = request.path
        if request.method in ("GET", "HEAD") and self.prefixes and url_path.startswith(self.prefixes):
            with replica_reads():
                return self.get_response(request)
        return self.get_response(request)

"""Every write and lookup of API keys (the management command, the admin and the auth use these)."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from changxin.api.models import ApiKey, ApiKeyKind
from changxin.core import audit
from changxin.core.models import AuditAction, Role, User

KEY_SCHEME = "cx"
# An integration client acts as a dedicated service user with this role unless told otherwise:
# the 12345 hotline integration works like a centre operator (district scope, CENTRE relation).
DEFAULT_INTEGRATION_ROLE = Role.OPERATOR
INTEGRATION_ROLES = (Role.OPERATOR, Role.LEADERSHIP, Role.CITIZEN)
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def split_key(raw: str) -> tuple[str, str] | None:
    """`cx_<prefix>_<secret>` → (prefix, secret); None when the text is not shaped like a key."""
    parts = (raw or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def service_user_for(name: str, prefix: str, role: str = DEFAULT_INTEGRATION_ROLE) -> User:
    user = User(username=f"svc-{prefix}", full_name=name[:60], role=role)
    user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def create_key(
    name: str,
    *,
    user: User | None = None,
    role: str = DEFAULT_INTEGRATION_ROLE,
    created_by: User | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with the raw key text (the only time the text exists).

    With `user` the key acts as that user; without, it is an integration client key acting as a new
    dedicated service user with `role` (operator by default).
    """
    if user is None and role not in INTEGRATION_ROLES:
        raise ValueError(f"an integration client may have role {', '.join(INTEGRATION_ROLES)}")
    for _attempt in range(5):
        prefix = secrets.token_hex(4)
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    else:  # pragma: no cover - 2^32 space
        raise IntegrityError("could not find a free key prefix")
    raw = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    kind = ApiKeyKind.USER if user is not None else ApiKeyKind.INTEGRATION
    if user is None:
        user = service_user_for(name, prefix, role)
    key = ApiKey.objects.create(
        name=name, prefix=prefix, key_hash=hash_key(raw), kind=kind, user=user, created_by=created_by
    )
    audit.record(created_by, AuditAction.CREATE, key, detail=f"api key for {user.get_username()}")
    return key, raw


@transaction.atomic
def revoke_key(key: ApiKey, *, actor: User | None = None) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        if key.kind == ApiKeyKind.INTEGRATION and not key.user.api_keys.active().exists():
            key.user.is_active = False
            key.user.save(update_fields=["is_active"])
        audit.record(actor, AuditAction.UPDATE, key, fields=["revoked_at"], detail="api key revoked")
    return key


# --- the per-process cache of authenticated keys ----------------------------------------------
#
# Every API request names its key; looking it up (key, user, unit) was a query and ≈ a quarter of
# an intake's CPU. Each app process keeps the keys it has authenticated, by the SHA-256 of the
# whole key, for `CHANGXIN_API_KEY_CACHE_SECONDS` (default 10; 0 turns it off, as the tests do).
# Safe because:
# - only a successful lookup is cached (a wrong or unknown key always asks the database), under
#   the hash of the whole key, which only its holder knows;
# - saving or deleting an ApiKey, a User or an OrgUnit clears this process's cache at once and
#   again after the commit (signals in api/apps.py): revoking a key or deactivating a user takes
#   effect at once in the process that did it and within the lifetime above in the others;
# - each request gets its own copies of the key and its user, never the shared instances.

_lock = threading.Lock()
_authenticated: dict[str, tuple[float, ApiKey]] = {}


def cache_lifetime() -> float:
    return float(getattr(settings, "CHANGXIN_API_KEY_CACHE_SECONDS", 10))


def forget(*args, **kwargs) -> None:
    """Clear this process's cache of authenticated keys now and once the transaction commits."""
    with _lock:
        _authenticated.clear()
    if kwargs.get("sender") is not None:  # a signal: the row may be re-read before its commit
        transaction.on_commit(forget)


def _lookup(prefix: str, digest: str) -> ApiKey | None:
    key = ApiKey.objects.active().select_related("user", "user__unit").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.key_hash, digest) or not key.user.is_active:
        return None
    return key


def authenticate(raw: str | None) -> ApiKey | None:
    """The active key matching `raw` whose user is active, or None. Constant-time comparison."""
    parts = split_key(raw or "")
    if parts is None:
        return None
    digest = hash_key(raw.strip())
    ttl = cache_lifetime()
    if ttl <= 0:
        key = _lookup(parts[0], digest)
    else:
        clock = time.monotonic()
        hit = _authenticated.get(digest)
        if hit is not None and clock - hit[0] < ttl:
            key = hit[1]
        else:
            key = _lookup(parts[0], digest)
            if key is not None:
                with _lock:
                    _authenticated[digest] = (clock, key)
    if key is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    if ttl > 0:  # the caller's own copies: a request may set attributes on its user
        user = copy.copy(key.user)
        key = copy.copy(key)
        key.user = user
    return key


def user_for_key(raw: str | None) -> User | None:
    key = authenticate(raw)
    return key.user if key else None

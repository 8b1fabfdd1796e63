"""Every write and lookup of API keys (the management command, the admin and the auth use these)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

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


def authenticate(raw: str | None) -> ApiKey | None:
    """The active key matching `raw` whose user is active, or None. Constant-time comparison."""
    parts = split_key(raw or "")
    if parts is None:
        return None
    key = ApiKey.objects.active().select_related("user", "user__unit").filter(prefix=parts[0]).first()
    if key is None or not hmac.compare_digest(key.key_hash, hash_key(raw.strip())):
        return None
    if not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def user_for_key(raw: str | None) -> User | None:
    key = authenticate(raw)
    return key.user if key else None

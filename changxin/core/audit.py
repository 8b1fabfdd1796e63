"""The audit log: who did what to which record, and who viewed personal data."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models

from changxin.core.models import AuditAction, AuditEntry


def _client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    actor,
    action: str,
    obj: models.Model | None = None,
    *,
    fields: list[str] | None = None,
    detail: str = "",
    request=None,
) -> AuditEntry:
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=(actor.get_username() if actor else "anonymous")[:150],
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        fields=list(fields or []),
        detail=detail,
        ip=_client_ip(request),
    )


def record_personal_view(actor, obj: models.Model, fields: list[str], *, request=None) -> AuditEntry:
    """Log that `actor` was shown the unmasked personal data `fields` of `obj`."""
    return record(actor, AuditAction.VIEW_PERSONAL, obj, fields=fields, request=request)


def record_personal_views(actor, objs, fields: list[str], *, request=None) -> list[AuditEntry]:
    """`record_personal_view` for a whole list page: one INSERT, not one per row."""
    objs = list(objs)
    if not objs:
        return []
    actor = actor if getattr(actor, "is_authenticated", False) else None
    content_type = ContentType.objects.get_for_model(objs[0])
    ip = _client_ip(request)
    return AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=actor,
            actor_name=(actor.get_username() if actor else "anonymous")[:150],
            action=AuditAction.VIEW_PERSONAL,
            content_type=content_type,
            object_id=str(obj.pk),
            object_repr=str(obj)[:200],
            fields=list(fields),
            ip=ip,
        )
        for obj in objs
    )


def entries_for(obj: models.Model) -> models.QuerySet:
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    )

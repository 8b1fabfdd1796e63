"""Login audit: every successful and failed login is an AuditEntry with the client's address.

django-axes does the counting and the lockout (settings "Login protection"); these receivers only
write the audit trail, on /login/, /admin/login/ and any other form that calls authenticate().
"""

from __future__ import annotations

import time

from axes.helpers import get_client_ip_address
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from changxin.core.middleware import IDLE_KEY
from changxin.core.models import AuditAction, AuditEntry


def client_ip(request) -> str | None:
    """The client's address as django-axes counts it (REMOTE_ADDR unless trusted proxies are set)."""
    if request is None:
        return None
    return getattr(request, "axes_ip_address", None) or get_client_ip_address(request) or None


@receiver(user_logged_in, dispatch_uid="changxin.core.audit_login")
def audit_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[IDLE_KEY] = time.time()  # the idle clock starts now
    AuditEntry.objects.create(
        actor=user,
        actor_name=user.get_username()[:150],
        action=AuditAction.LOGIN,
        object_repr=str(user)[:200],
        detail=request.path if request is not None else "",
        ip=client_ip(request),
    )


@receiver(user_login_failed, dispatch_uid="changxin.core.audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    username = str((credentials or {}).get("username") or "")[:150]
    user = get_user_model().objects.filter(username=username).first() if username else None
    locked = bool(getattr(request, "axes_locked_out", False))
    path = request.path if request is not None else ""
    AuditEntry.objects.create(
        actor=None,
        actor_name=username or "anonymous",
        action=AuditAction.LOGIN_FAILED,
        object_repr=str(user)[:200] if user else "",
        object_id=str(user.pk) if user else "",
        detail=f"{path} locked out" if locked else path,
        ip=client_ip(request),
    )

"""The staff inbox: list (unread first), open one (marks it read, follows its link), mark all read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from changxin.core.scope import can_write
from changxin.notifications import services

PAGE_SIZE = 20


@require_GET
@login_required
def inbox(request):
    page = Paginator(services.inbox_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {
            "page": page,
            "unread": services.unread_count(request.user),
            "can_write": can_write(request.user),
        },
    )


@require_POST
@login_required
def open_notification(request, pk: int):
    item = services.open_notification(request.user, pk)
    if item.url and url_has_allowed_host_and_scheme(item.url, allowed_hosts={request.get_host()}):
        return redirect(item.url)
    return redirect("notifications:inbox")


@require_POST
@login_required
def read_all(request):
    if not can_write(request.user):
        raise PermissionDenied(_("Read-only accounts cannot change anything."))
    count = services.mark_all_read(request.user)
    messages.success(request, _("%(count)s notifications marked as read.") % {"count": count})
    return redirect("notifications:inbox")

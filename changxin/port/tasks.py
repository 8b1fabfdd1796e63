"""先丰港 background jobs."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core import jobs


@jobs.periodic(minute="0", hour="8")
def notify_overdue_visits() -> dict:
    """Tell each service manager once per enterprise and due date that a planned visit is overdue
    (idempotent: the key is the due date, so a rerun writes nothing twice)."""
    from changxin.notifications.services import notify
    from changxin.port.models import Enterprise
    from changxin.port.selectors import visit_plan

    today = timezone.localdate()
    managed = Enterprise.objects.active().filter(manager__is_active=True).select_related("manager")
    sent = 0
    for item in visit_plan(managed, today):
        if not item["overdue"]:
            continue
        enterprise = item["enterprise"]
        sent += notify(
            [enterprise.manager_id],
            "port.visit_overdue",
            _("Visit overdue: %(name)s"),
            _("The planned visit was due on %(due)s."),
            url=reverse("port:enterprise", args=[enterprise.pk]),
            key=f"enterprise:{enterprise.pk}:visit:{item['due'].isoformat()}",
            params={"name": enterprise.name, "due": item["due"].isoformat()},
        )
    return {"notified": sent}

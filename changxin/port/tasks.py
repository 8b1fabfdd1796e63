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


@jobs.periodic(minute="30", hour="2")
def refresh_cooperation_matches() -> dict:
    """Nightly: propose matches between open offers, needs and scenarios (idempotent; posting an item
    also runs it at once)."""
    from changxin.port.cooperation import refresh_matches

    return refresh_matches()


@jobs.periodic(minute="*/30")
def flag_overdue_suggestions() -> dict:
    """Mark suggestions past their response deadline and tell the unit and the manager (once)."""
    from changxin.port.suggestions import flag_overdue

    return {"overdue": flag_overdue()}


@jobs.periodic(minute="0", hour="7")
def sync_policies() -> dict:
    """免申即享: match every active policy to the registry and notify newly eligible enterprises."""
    from changxin.port.policies import sync_all

    return sync_all()


@jobs.periodic(minute="15", hour="8")
def flag_overdue_rectifications() -> dict:
    """一码检查: mark rectifications (整改) past their deadline and tell the inspecting department
    (once per deadline)."""
    from changxin.port.inspections import flag_overdue_rectifications as flag

    return {"overdue": flag()}

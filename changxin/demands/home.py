"""The home page's panels for staff: the centre's queue in figures, a unit's work due today."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core.roles import is_centre, works_in_unit
from changxin.demands import selectors
from changxin.demands.templatetags.demand_tags import DeadlineClock

DUE_TODAY_LIMIT = 10


def panels_for(user) -> list[dict]:
    panels = []
    if is_centre(user):
        panels.append(centre_panel(user))
    if works_in_unit(user):
        panels.append(due_today_panel(user))
    return panels


def centre_panel(user) -> dict:
    def count(**filters):
        return selectors.list_demands(user, selectors.DemandFilter(**filters), read_all=True).count()

    return {
        "template": "demands/_home_centre.html",
        "order": 20,
        "figures": [
            {
                "key": "centre",
                "label": _("Need the centre"),
                "value": count(view="centre"),
                "url": "demands:queue",
            },
            {
                "key": "overdue",
                "label": _("Overdue"),
                "value": count(due="overdue"),
                "url": "demands:overdue",
            },
            {
                "key": "visits",
                "label": _("Wait for a return visit"),
                "value": selectors.list_awaiting_visit(user).count(),
                "url": "demands:visits",
            },
        ],
    }


def due_today_panel(user) -> dict:
    """The unit's open tasks due by the end of today (overdue ones first), soonest first."""
    today_end = dt.datetime.combine(
        timezone.localdate() + dt.timedelta(days=1), dt.time.min, timezone.get_current_timezone()
    )
    tasks = selectors.tasks_for_unit_staff(user).filter(due_at__lt=today_end)
    return {
        "template": "demands/_home_due_today.html",
        "order": 20,
        "tasks": list(tasks[:DUE_TODAY_LIMIT]),
        "total": tasks.count(),
        "clock": DeadlineClock(selectors.clock_hour_policies()),
    }

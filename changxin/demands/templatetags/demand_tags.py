"""Countdowns (working-time aware), state badges and the staff menu of the demand screens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from changxin.core import roles
from changxin.core.workcalendar import get_calendar, minutes_per_working_day
from changxin.demands.models import OPEN_STATES, Demand, State

register = template.Library()

# --- countdowns --------------------------------------------------------------------------------


def format_span(minutes: int, *, working: bool) -> str:
    minutes = max(0, int(minutes))
    if working:
        per_day = minutes_per_working_day()
        days, rest = divmod(minutes, per_day)
        hours, mins = divmod(rest, 60)
        if days:
            text = ngettext("%(n)d working day", "%(n)d working days", days) % {"n": days}
            return text + (" " + _("%(n)d h") % {"n": hours} if hours else "")
        if hours:
            return _("%(h)d working h %(m)d min") % {"h": hours, "m": mins}
        return _("%(m)d working min") % {"m": mins}
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        text = ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
        return text + (" " + _("%(n)d h") % {"n": hours} if hours else "")
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": mins}
    return _("%(m)d min") % {"m": mins}


@dataclass(frozen=True)
class Countdown:
    due: dt.datetime
    overdue: bool
    soon: bool
    text: str
    working: bool

    @property
    def css(self) -> str:
        return "danger" if self.overdue else "warn" if self.soon else "ok"


@dataclass(frozen=True)
class NextDeadline:
    kind: str  # "contact" | "finish" | "task"
    label: str
    countdown: Countdown


class DeadlineClock:
    """Countdowns for one page: one calendar snapshot, one `now`, one policy table for every row."""

    def __init__(self, policies: dict | None = None, now: dt.datetime | None = None):
        self.now = now or timezone.now()
        self.calendar = get_calendar()
        self.policies = policies or {}
        self.horizon = self.calendar.add_working_time(
            self.now, hours=settings.CHANGXIN_NEARLY_OVERDUE_WORKING_HOURS
        ).value

    def countdown(self, due: dt.datetime | None, *, clock: bool = False) -> Countdown | None:
        """“due in …” / “overdue by …”, in working time unless the deadline counts clock hours.

        `soon` = due within CHANGXIN_NEARLY_OVERDUE_WORKING_HOURS working hours (the horizon of the
        nearly-overdue list), or that many clock hours for a clock-hour deadline.
        """
        if due is None:
            return None
        now = self.now
        overdue = due < now
        if clock:
            minutes = abs((due - now).total_seconds()) // 60
        else:
            minutes = abs(self.calendar.working_time_between(now, due).value.total_seconds()) // 60
        span = format_span(minutes, working=not clock)
        if overdue:
            text = _("overdue by %(span)s") % {"span": span} if minutes else _("overdue")
            soon = False
        else:
            text = _("due in %(span)s") % {"span": span}
            soon = due <= self.horizon or (
                clock and due - now <= dt.timedelta(hours=settings.CHANGXIN_NEARLY_OVERDUE_WORKING_HOURS)
            )
        return Countdown(due=due, overdue=overdue, soon=soon, text=text, working=not clock)

    def clock_flags(self, demand: Demand) -> tuple[bool, bool]:
        """(contact deadline in clock hours, finish deadline in clock hours) for this demand."""
        return (
            self.policies.get((demand.demand_type, demand.urgency))
            or self.policies.get(("", demand.urgency))
            or (False, False)
        )

    def next_deadline(self, demand: Demand) -> NextDeadline | None:
        """The deadline that matters next on an open demand: contact until contacted, then finish."""
        if demand.state not in OPEN_STATES or demand.state == State.RECEIVED:
            return None
        contact_clock, finish_clock = self.clock_flags(demand)
        if demand.contacted_at is None and demand.contact_due:
            return NextDeadline(
                "contact", gettext_lazy("Contact"), self.countdown(demand.contact_due, clock=contact_clock)
            )
        if demand.finish_due:
            return NextDeadline(
                "finish", gettext_lazy("Finish"), self.countdown(demand.finish_due, clock=finish_clock)
            )
        return None

    def task_countdown(self, task, demand: Demand | None = None) -> Countdown | None:
        """A task's own due time, counted by the one rule for a deadline: in the unit its policy
        uses. A lead task is due at the demand's finish deadline, so it counts like that deadline
        (clock hours for urgent and utility demands, RULES.md); co-unit and called-in tasks are
        given working days, so they count working time."""
        clock = task.role == "lead" and self.clock_flags(demand or task.demand)[1]
        return self.countdown(task.due_at, clock=clock)

    def task_deadline(self, task) -> NextDeadline | None:
        """Lead tasks follow the demand's deadlines; co-unit and called-in tasks their own due time."""
        if task.role == "lead":
            return self.next_deadline(task.demand)
        if task.due_at is None:
            return None
        return NextDeadline("task", gettext_lazy("Task"), self.task_countdown(task))


@register.simple_tag
def demand_deadline(demand, clock: DeadlineClock):
    return clock.next_deadline(demand)


@register.simple_tag
def task_deadline(task, clock: DeadlineClock):
    return clock.task_deadline(task)


@register.inclusion_tag("demands/_countdown.html")
def show_countdown(deadline):
    return {"deadline": deadline}


STATE_CSS = {
    State.RECEIVED: "warn",
    State.DISPUTED: "danger",
    State.REPLIED: "ok",
    State.VISITED: "ok",
    State.ARCHIVED: "",
    State.MERGED: "",
}


@register.simple_tag
def state_badge_class(state: str) -> str:
    return STATE_CSS.get(state, "")


# --- the staff menu ----------------------------------------------------------------------------


@register.inclusion_tag("demands/_staff_menu.html", takes_context=True)
def staff_menu(context):
    request = context["request"]
    user = request.user
    current = getattr(request.resolver_match, "url_name", "")
    items = []
    # the same predicates as the views' staff_required checks (core/roles.py)
    if roles.is_district_wide(user):
        items.append(("queue", _("Dispatch queue")))
    if roles.works_in_unit(user):
        items.append(("workbench", _("My workbench")))
    if roles.is_district_wide(user):
        items.append(("visits", _("Return visits")))
    if roles.is_staff_side(user):
        items.append(("overdue", _("Overdue")))
    return {
        "items": [
            {"url": reverse(f"demands:{name}"), "label": label, "current": name == current}
            for name, label in items
        ]
    }

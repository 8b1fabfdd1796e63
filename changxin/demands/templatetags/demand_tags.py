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

from changxin.core.models import PUBLIC_ROLES, UNIT_ROLES, Role
from changxin.core.workcalendar import add_working_time, minutes_per_working_day, working_time_between
from changxin.demands.models import OPEN_STATES, Demand, State

register = template.Library()

# --- who sees which screen (views use the same predicates) ----------------------------------------


def is_staff_user(user) -> bool:
    return bool(
        user.is_authenticated and user.is_active and (user.is_superuser or user.role not in PUBLIC_ROLES)
    )


def is_centre(user) -> bool:
    """The district 接诉即办 centre: operators/dispatchers and district administrators."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role in (Role.OPERATOR, Role.ADMIN))
    )


def sees_queue(user) -> bool:
    return is_centre(user) or (user.is_authenticated and user.role == Role.LEADERSHIP)


def has_workbench(user) -> bool:
    return bool(user.is_authenticated and user.role in UNIT_ROLES and user.unit_id)


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


def countdown(
    due: dt.datetime | None, *, clock: bool = False, now: dt.datetime | None = None
) -> Countdown | None:
    """“due in …” / “overdue by …”, counted in working time unless the deadline is in clock hours.

    `soon` means due within CHANGXIN_NEARLY_OVERDUE_WORKING_HOURS working hours (the same horizon as
    the nearly-overdue list).
    """
    if due is None:
        return None
    now = now or timezone.now()
    overdue = due < now
    if clock:
        minutes = abs((due - now).total_seconds()) // 60
    else:
        minutes = abs(working_time_between(now, due).value.total_seconds()) // 60
    span = format_span(minutes, working=not clock)
    if overdue:
        text = _("overdue by %(span)s") % {"span": span} if minutes else _("overdue")
        soon = False
    else:
        text = _("due in %(span)s") % {"span": span}
        horizon = add_working_time(now, hours=settings.CHANGXIN_NEARLY_OVERDUE_WORKING_HOURS).value
        soon = due <= horizon or (
            clock and (due - now) <= dt.timedelta(hours=settings.CHANGXIN_NEARLY_OVERDUE_WORKING_HOURS)
        )
    return Countdown(due=due, overdue=overdue, soon=soon, text=text, working=not clock)


def clock_flags(demand: Demand, policies: dict) -> tuple[bool, bool]:
    """(contact deadline in clock hours, finish deadline in clock hours) for this demand."""
    return (
        policies.get((demand.demand_type, demand.urgency))
        or policies.get(("", demand.urgency))
        or (False, False)
    )


@dataclass(frozen=True)
class NextDeadline:
    kind: str  # "contact" | "finish"
    label: str
    countdown: Countdown


def next_deadline(demand: Demand, policies: dict, now: dt.datetime | None = None) -> NextDeadline | None:
    """The deadline that matters next on an open demand: contact until contacted, then finish."""
    if demand.state not in OPEN_STATES or demand.state == State.RECEIVED:
        return None
    contact_clock, finish_clock = clock_flags(demand, policies)
    if demand.contacted_at is None and demand.contact_due:
        cd = countdown(demand.contact_due, clock=contact_clock, now=now)
        return NextDeadline("contact", gettext_lazy("Contact"), cd)
    if demand.finish_due:
        return NextDeadline(
            "finish", gettext_lazy("Finish"), countdown(demand.finish_due, clock=finish_clock, now=now)
        )
    return None


@register.simple_tag
def demand_deadline(demand, policies):
    return next_deadline(demand, policies)


@register.simple_tag
def task_deadline(task, policies):
    """Lead tasks follow the demand's deadlines; co-unit and called-in tasks their own due time."""
    if task.role == "lead":
        return next_deadline(task.demand, policies)
    if task.due_at is None:
        return None
    return NextDeadline("task", gettext_lazy("Task"), countdown(task.due_at))


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
    if sees_queue(user):
        items.append(("queue", _("Dispatch queue")))
    if has_workbench(user):
        items.append(("workbench", _("My workbench")))
    if sees_queue(user):
        items.append(("visits", _("Return visits")))
    if is_staff_user(user):
        items.append(("overdue", _("Overdue")))
    return {
        "items": [
            {"url": reverse(f"demands:{name}"), "label": label, "current": name == current}
            for name, label in items
        ]
    }

"""Every read of 先丰港, already scoped to the viewer."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from changxin.core import roles
from changxin.core.scope import restrict
from changxin.port.models import Enterprise, EnterpriseDemand, Visit


def may_use_port(user) -> bool:
    """The wing's pages: service managers, enterprise accounts, the centre and district leadership."""
    if not roles.is_active(user):
        return False
    return roles.is_district_wide(user) or user.role in (roles.Role.SERVICE_MANAGER, roles.Role.ENTERPRISE)


def enterprise_demand_rule(user) -> Q | None:
    """Extra demands for `user` (registered on Demand's scope in PortConfig.ready)."""
    role = getattr(user, "role", None)
    if role == roles.Role.ENTERPRISE:
        return Q(enterprise_link__enterprise__members=user)
    if role == roles.Role.SERVICE_MANAGER:
        return Q(enterprise_link__enterprise__manager=user)
    return None


def enterprises_visible_to(user):
    return restrict(Enterprise.objects.select_related("street", "manager"), user)


def own_enterprises(user):
    """An enterprise account's own enterprises; a service manager's managed ones; else the scope."""
    qs = enterprises_visible_to(user)
    if getattr(user, "role", None) == roles.Role.ENTERPRISE:
        return qs.filter(members=user)
    if getattr(user, "role", None) == roles.Role.SERVICE_MANAGER:
        return qs.filter(manager=user)
    return qs


def demand_links(user, enterprise: Enterprise | None = None):
    """The enterprise demands `user` may see (the demand's scope), newest first."""
    qs = restrict(EnterpriseDemand.objects.select_related("demand", "enterprise"), user)
    if enterprise is not None:
        qs = qs.filter(enterprise=enterprise)
    return qs.order_by("-demand__received_at", "-id")


def rateable(user, demands) -> set[int]:
    """The demands among `demands` that `user` (an enterprise account) may rate now: the demand
    machine asked with the one relation an enterprise account can have to a demand — REQUESTER,
    when it filed it (enterprise accounts are never unit staff or assignees) — without a query
    per demand."""
    from changxin.demands.workflow import MACHINE, REQUESTER

    if getattr(user, "role", None) != roles.Role.ENTERPRISE or not roles.is_active(user):
        return set()
    return {
        d.pk
        for d in demands
        if d.requester_user_id == user.pk and MACHINE.allows("return_visit", d, {REQUESTER})
    }


# --- visits -----------------------------------------------------------------------------------

# Days between 走访 visits by flag or size (the shortest that applies wins); a setting overrides.
# Default: key enterprises (重点) monthly, 专精特新 every two months; others have no plan.
DEFAULT_VISIT_DAYS = {"is_key": 30, "is_specialised": 60}


def visit_interval(enterprise: Enterprise) -> int | None:
    """Days between visits: the enterprise's own setting, else the shortest of the rules that apply
    (settings.CHANGXIN_PORT_VISIT_DAYS by flag and by size); None = no visit plan."""
    if enterprise.visit_interval_days:
        return enterprise.visit_interval_days
    rules = getattr(settings, "CHANGXIN_PORT_VISIT_DAYS", DEFAULT_VISIT_DAYS)
    days = [
        rules[f]
        for f in ("is_key", "is_specialised", "is_high_tech", "is_listed")
        if getattr(enterprise, f) and f in rules
    ]
    if enterprise.size in rules:
        days.append(rules[enterprise.size])
    return min(days) if days else None


def visit_plan(enterprises, today: dt.date | None = None) -> list[dict]:
    """Per enterprise with a plan: last visit, next due, overdue (one query for the last visits)."""
    today = today or timezone.localdate()
    enterprises = list(enterprises)
    last = dict(
        Visit.objects.filter(enterprise__in=[e.pk for e in enterprises])
        .values("enterprise")
        .annotate(last=Max("visited_on"))
        .values_list("enterprise", "last")
    )
    plan = []
    for e in enterprises:
        interval = visit_interval(e)
        if interval is None:
            continue
        previous = last.get(e.pk)
        due = (previous + dt.timedelta(days=interval)) if previous else e.created_at.date()
        plan.append(
            {"enterprise": e, "interval": interval, "last": previous, "due": due, "overdue": due < today}
        )
    plan.sort(key=lambda p: (not p["overdue"], p["due"]))
    return plan


# --- rankings -----------------------------------------------------------------------------------


def enterprise_demand_ranking(user, *, by: str = "manager", since: dt.datetime | None = None) -> list[dict]:
    """Enterprise demands per service manager (of the filing enterprise) or per lead unit: count,
    replied, replied on time, rated and satisfied (satisfied + basically satisfied) — of the
    enterprise demands `user` may see."""
    from changxin.demands.models import Satisfaction, State

    qs = demand_links(user)
    if since is not None:
        qs = qs.filter(demand__received_at__gte=since)
    key = "enterprise__manager" if by == "manager" else "demand__lead_unit"
    label = "enterprise__manager__full_name" if by == "manager" else "demand__lead_unit__name"
    done = Q(demand__state__in=[State.REPLIED, State.VISITED, State.ARCHIVED])
    rated = Q(
        demand__satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC, Satisfaction.DISSATISFIED]
    )
    rows = (
        qs.order_by()
        .values(key, label)
        .annotate(
            total=Count("pk"),
            done=Count("pk", filter=done),
            on_time=Count("pk", filter=done & Q(demand__replied_at__lte=F("demand__finish_due"))),
            rated=Count("pk", filter=rated & Q(demand__rating_excluded=False)),
            satisfied=Count(
                "pk",
                filter=Q(demand__satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC])
                & Q(demand__rating_excluded=False),
            ),
        )
    )
    out = []
    for row in rows:
        if row[key] is None:
            continue
        out.append(
            {
                "key": row[key],
                "name": row[label] or "—",
                "total": row["total"],
                "done": row["done"],
                "on_time": row["on_time"],
                "on_time_rate": _rate(row["on_time"], row["done"]),
                "rated": row["rated"],
                "satisfaction_rate": _rate(row["satisfied"], row["rated"]),
            }
        )
    out.sort(
        key=lambda r: (-(r["satisfaction_rate"] or 0), -(r["on_time_rate"] or 0), -r["total"], r["name"])
    )
    return out


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# --- investment projects ------------------------------------------------------------------------


def projects_visible_to(user):
    from changxin.port.models import Project

    return restrict(Project.objects.select_related("street", "enterprise", "manager"), user)


def project_board(user, zone: str = "") -> list[dict]:
    """The projects by stage (the columns of the board), with the count and the amount per stage."""
    from changxin.port.models import Stage

    qs = projects_visible_to(user)
    if zone:
        qs = qs.filter(zone=zone)
    columns = {
        stage: {"stage": stage, "label": label, "projects": [], "amount": 0} for stage, label in Stage.choices
    }
    for project in qs.order_by("-amount", "name"):
        column = columns[project.stage]
        column["projects"].append(project)
        column["amount"] += project.amount
    return list(columns.values())


def batch_counts(user, year: int) -> list[dict]:
    """储备一批、开工一批、建成一批: per zone, the projects that entered the reserve, started works
    and were completed in `year` (of the projects the viewer may see)."""
    from changxin.port.models import Zone

    qs = projects_visible_to(user).order_by()
    reserved = dict(
        qs.filter(reserved_on__year=year).values("zone").annotate(n=Count("pk")).values_list("zone", "n")
    )
    started = dict(
        qs.filter(started_on__year=year).values("zone").annotate(n=Count("pk")).values_list("zone", "n")
    )
    completed = dict(
        qs.filter(completed_on__year=year).values("zone").annotate(n=Count("pk")).values_list("zone", "n")
    )
    return [
        {
            "zone": value,
            "label": label,
            "reserved": reserved.get(value, 0),
            "started": started.get(value, 0),
            "completed": completed.get(value, 0),
        }
        for value, label in Zone.choices
    ]

"""Reads of demands, always scoped to the user. One filter definition serves pages, API and exports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from changxin.core import roles
from changxin.core.models import OrgUnit, User
from changxin.core.params import parse_date, parse_int, text
from changxin.core.scope import get_visible_or_404, restrict
from changxin.demands import deadlines
from changxin.demands.models import (
    OPEN_STATES,
    Category,
    Channel,
    DeadlinePolicy,
    Demand,
    DemandAttachment,
    DemandEvent,
    DemandTask,
    DemandType,
    State,
    TaskRole,
    TaskState,
    TimeUnit,
    Urgency,
)


def demands_visible_to(user: User, *, read_all: bool = False) -> QuerySet[Demand]:
    """`read_all=True`: for counts and aggregates, which read every visible row (core.scope.restrict)."""
    return restrict(Demand.objects.all(), user, read_all=read_all)


def get_demand_for(user: User, **lookup) -> Demand:
    return get_visible_or_404(
        Demand.objects.select_related("category", "lead_unit", "street", "community", "master"),
        user,
        **lookup,
    )


@dataclass
class DemandFilter:
    """The one definition of the demand list filters (page, API, Excel export)."""

    q: str = ""
    state: str = ""
    demand_type: str = ""
    urgency: str = ""
    channel: str = ""
    category: int | None = None
    street: int | None = None
    lead_unit: int | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    due: str = ""  # "overdue" | "soon"
    view: str = ""  # a named set of states: "centre" (the queue's default view), see VIEWS

    # The dispatcher queue opens on what needs the centre; the Excel export of that view says so.
    VIEWS = {"centre": (State.RECEIVED, State.DISPUTED)}

    FIELDS = (
        "q",
        "state",
        "demand_type",
        "urgency",
        "channel",
        "category",
        "street",
        "lead_unit",
        "received_from",
        "received_to",
        "due",
        "view",
    )

    @classmethod
    def from_params(cls, params) -> DemandFilter:
        def integer(name):  # a bad id is ignored, as an unknown choice is
            return parse_int(params.get(name), min_value=1)

        def date(name):  # ASCII YYYY-MM-DD within 2000–2100, else ignored
            return parse_date(params.get(name))

        return cls(
            q=text(params.get("q"), 100),
            state=text(params.get("state"), 20),
            demand_type=text(params.get("demand_type"), 20),
            urgency=text(params.get("urgency"), 20),
            channel=text(params.get("channel"), 20),
            category=integer("category"),
            street=integer("street"),
            lead_unit=integer("lead_unit"),
            received_from=date("received_from"),
            received_to=date("received_to"),
            due=text(params.get("due"), 20),
            view=params.get("view") if params.get("view") in cls.VIEWS else "",
        )

    def apply(self, demands: QuerySet[Demand]) -> QuerySet[Demand]:
        # every condition in one filter() call: each call clones the queryset, and on a list's
        # small indexed query the ORM's building is a sizeable part of the time (docs/PERFORMANCE.md)
        conditions: list[Q] = []
        if self.q:
            conditions.append(
                Q(number__icontains=self.q) | Q(title__icontains=self.q) | Q(address__icontains=self.q)
            )
        plain: dict = {}
        if self.view in self.VIEWS:
            plain["state__in"] = self.VIEWS[self.view]
        for name in ("state", "demand_type", "urgency", "channel"):
            value = getattr(self, name)
            if value:
                plain[name] = value
        if self.category:
            conditions.append(
                Q(category_id=self.category)
                | Q(category__parent_id=self.category)
                | Q(category__parent__parent_id=self.category)
            )
        if self.street:
            plain["street_id"] = self.street
        if self.lead_unit:
            plain["lead_unit_id"] = self.lead_unit
        tz = timezone.get_current_timezone()
        if self.received_from:
            plain["received_at__gte"] = dt.datetime.combine(self.received_from, dt.time.min, tz)
        if self.received_to:
            plain["received_at__lt"] = dt.datetime.combine(
                self.received_to + dt.timedelta(days=1), dt.time.min, tz
            )
        if conditions or plain:
            demands = demands.filter(*conditions, **plain)
        if self.due == "overdue":
            demands = deadlines.list_overdue(demands)
        elif self.due == "soon":
            demands = deadlines.list_nearly_overdue(demands)
        return demands


def list_demands(user: User, flt: DemandFilter | None = None, *, read_all: bool = False) -> QuerySet[Demand]:
    """The filtered list; `read_all=True` for a count or the state chips (the scope as index scans)."""
    demands = demands_visible_to(user, read_all=read_all)
    if not read_all:
        demands = demands.select_related("category", "lead_unit", "street")
    return (flt or DemandFilter()).apply(demands)


# What a row of the demand lists (queue, overdue: demands/_demand_rows.html and its deadline
# countdown) reads. A page reads these columns as tuples and makes a `DemandRow` of each: no model
# instance of the wide demand row and three related ones per row (docs/PERFORMANCE.md, "Officer list").
ROW_COLUMNS = (
    "pk",
    "number",
    "title",
    "state",
    "demand_type",
    "urgency",
    "channel",
    "received_at",
    "contact_due",
    "contacted_at",
    "finish_due",
    "street__name",
    "category__full_name",
    "lead_unit__name",
)


def list_rows(user: User, flt: DemandFilter | None = None) -> QuerySet:
    """The filtered list as `ROW_COLUMNS` tuples, for a list page (`row_page`): the columns name the
    related rows, so nothing is `select_related` and no model instance is built."""
    return (flt or DemandFilter()).apply(demands_visible_to(user)).values_list(*ROW_COLUMNS)


@dataclass(frozen=True, slots=True)
class UnitName:
    name: str

    def __str__(self) -> str:
        return self.name


_LABELS = {
    name: dict(choices)
    for name, choices in (
        ("state", State.choices),
        ("demand_type", DemandType.choices),
        ("urgency", Urgency.choices),
        ("channel", Channel.choices),
    )
}


@dataclass(frozen=True, slots=True)
class DemandRow:
    """One row of a demand list, as the row template and `DeadlineClock.next_deadline` read it."""

    pk: int
    number: str
    title: str
    state: str
    demand_type: str
    urgency: str
    channel: str
    received_at: dt.datetime
    contact_due: dt.datetime | None
    contacted_at: dt.datetime | None
    finish_due: dt.datetime | None
    street: UnitName | None
    category: str | None  # its full name, as `str(category)` shows it
    lead_unit: UnitName | None

    @classmethod
    def of(cls, values: tuple) -> DemandRow:
        *head, street, category, lead_unit = values
        return cls(
            *head,
            street=None if street is None else UnitName(street),
            category=category,
            lead_unit=None if lead_unit is None else UnitName(lead_unit),
        )

    @property
    def id(self) -> int:
        return self.pk

    def _label(self, name: str) -> str:
        value = getattr(self, name)
        return _LABELS[name].get(value, value)

    def get_state_display(self) -> str:
        return self._label("state")

    def get_demand_type_display(self) -> str:
        return self._label("demand_type")

    def get_urgency_display(self) -> str:
        return self._label("urgency")

    def get_channel_display(self) -> str:
        return self._label("channel")


def row_page(paginator, number):
    """The page `number` of a demand list paginated over `values_list(*ROW_COLUMNS)`, as rows."""
    page = paginator.get_page(number)
    page.object_list = [DemandRow.of(values) for values in page.object_list]
    return page


def tasks_for_unit_staff(user: User) -> QuerySet[DemandTask]:
    """Open tasks of the user's unit subtree (the officer workbench), soonest deadline first."""
    if not user.is_authenticated:
        return DemandTask.objects.none()
    mine = Q(assignee=user)  # tasks assigned to the person, wherever their own unit sits
    if user.unit_id:
        mine |= Q(unit__path__startswith=user.unit.path)
    return (
        DemandTask.objects.filter(mine, state__in=[TaskState.PENDING, TaskState.ACKNOWLEDGED])
        .filter(demand__state__in=OPEN_STATES)  # a closed demand leaves no task on any workbench
        .select_related("demand", "demand__lead_unit", "unit", "demand__category", "assignee")
        .order_by("due_at")
    )


def assignable_people(demand: Demand) -> QuerySet[User]:
    """Who the lead unit may hand its task to: its own staff (its subtree), or a service manager."""
    if demand.lead_unit_id is None:
        return User.objects.none()
    return (
        User.objects.filter(is_active=True, role__in=roles.ASSIGNABLE_ROLES)
        .filter(Q(unit__path__startswith=demand.lead_unit.path) | Q(role=roles.Role.SERVICE_MANAGER))
        .select_related("unit")
        .order_by("unit__path", "username")
    )


def lead_tasks_open(user: User) -> QuerySet[DemandTask]:
    return tasks_for_unit_staff(user).filter(role=TaskRole.LEAD)


# --- reads for the staff screens -----------------------------------------------------------------


def list_events(user: User, demand: Demand) -> QuerySet[DemandEvent]:
    """The timeline of a demand the user may see, oldest first."""
    return restrict(DemandEvent.objects.filter(demand=demand), user).select_related("actor", "actor_unit")


def list_attachments(user: User, demand: Demand) -> QuerySet[DemandAttachment]:
    return restrict(DemandAttachment.objects.filter(demand=demand), user).order_by("uploaded_at", "id")


def get_attachment_for(user: User, demand: Demand, pk: int) -> DemandAttachment:
    return get_visible_or_404(DemandAttachment.objects.filter(demand=demand), user, pk=pk)


def list_tasks(demand: Demand) -> QuerySet[DemandTask]:
    """Every unit's part in a demand (call only after the demand itself was fetched through scope)."""
    return demand.tasks.select_related("unit", "called_by", "assignee").order_by("assigned_at", "id")


def list_duplicates(user: User, demand: Demand) -> QuerySet[Demand]:
    """Demands merged into this one that the user may see."""
    return demands_visible_to(user).filter(master=demand).order_by("received_at")


def find_demand_by_number(user: User, number: str) -> Demand | None:
    number = (number or "").strip()
    if not number:
        return None
    return demands_visible_to(user).filter(number__iexact=number).first()


def dispatch_targets() -> QuerySet[OrgUnit]:
    """Units a demand may be dispatched to (reference data: the org tree's names are not scoped)."""
    return OrgUnit.objects.filter(kind__in=roles.DISPATCHABLE_KINDS, is_active=True).order_by("kind", "code")


def whistle_targets() -> QuerySet[OrgUnit]:
    """Departments and public-service companies a street may call in (吹哨报到)."""
    return OrgUnit.objects.filter(kind__in=roles.WHISTLE_KINDS, is_active=True).order_by("kind", "code")


def streets() -> QuerySet[OrgUnit]:
    return OrgUnit.objects.streets_and_towns().filter(is_active=True).order_by("code")


def top_categories() -> QuerySet[Category]:
    return Category.objects.filter(level=1, is_active=True).order_by("full_name")


def clock_hour_policies() -> dict[tuple[str, str], tuple[bool, bool]]:
    """(type, urgency) → (contact counted in clock hours, finish counted in clock hours).

    The key ("", urgency) is the fallback for any type. Read once per page for countdowns.
    """
    result = {
        (p.demand_type, p.urgency): (
            p.contact_unit == TimeUnit.CLOCK_HOURS,
            p.finish_unit == TimeUnit.CLOCK_HOURS,
        )
        for p in DeadlinePolicy.objects.all()
    }
    for d_type, urgency, _c, c_unit, _f, f_unit in deadlines.DEFAULT_POLICIES:
        result.setdefault((d_type, urgency), (c_unit == TimeUnit.CLOCK_HOURS, f_unit == TimeUnit.CLOCK_HOURS))
    return result


def counts_by_state(demands: QuerySet[Demand]) -> dict[str, int]:
    # values_list + annotate yields (state, n) pairs: GROUP BY state
    return dict(demands.order_by().values_list("state").annotate(n=Count("id")))


def list_awaiting_visit(user: User) -> QuerySet[Demand]:
    """Replied demands waiting for the centre's return visit, oldest reply first."""
    return (
        demands_visible_to(user)
        .filter(state=State.REPLIED)
        .select_related("lead_unit", "street", "category")
        .order_by("replied_at", "id")
    )


def unscoped_demands() -> QuerySet[Demand]:
    """Every demand, unscoped: for system work that is not a user's screen (triage, metrics over a
    given queryset, the public Open311 listing, the portal's tracking-code lookup). Screens and the
    API use `demands_visible_to(user)`; `Demand.objects` is used nowhere else (a convention test)."""
    return Demand.objects.all()

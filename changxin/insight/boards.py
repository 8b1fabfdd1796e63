"""The dashboards (docs/DASHBOARDS.md): district overview, street/town, enterprise service, party work.

Each dashboard is a list of `Chart`s built here from scoped reads; a chart's `columns` and `rows`
are at once the data the browser draws (static/js/dashboards.js), the accessible table under it
and its CSV download, so the three can never disagree. Demand counts come from the pre-aggregate
(`aggregates.py`), 三率 from the cached ranking, overdue and communities live (small indexed sets).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changxin.core import roles
from changxin.core.models import OrgUnit, RankingGroup
from changxin.demands.models import Category, Channel, DemandType
from changxin.demands.selectors import unscoped_demands
from changxin.insight import aggregates, selectors
from changxin.insight.metrics import add_months, this_month


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # bar | hbar | stack | line | pie | treemap | table (no drawing)
    columns: list[str]
    rows: list[list]
    note: str = ""
    series: int | None = None  # how many value columns the chart draws (the table shows all)

    def data(self) -> dict:
        return {
            "key": self.key,
            "kind": self.kind,
            "columns": self.columns,
            "rows": self.rows,
            "series": self.series,
        }


@dataclass
class Board:
    key: str
    title: str
    cards: list[tuple[str, object]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def chart(self, key: str) -> Chart | None:
        return next((c for c in self.charts if c.key == key), None)


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value}%"


def _rate(value) -> float | None:
    return None if value is None else round(float(value) * 100, 2)


def month_days(month: dt.date) -> tuple[dt.date, dt.date]:
    return month, add_months(month, 1) - dt.timedelta(days=1)


# --- the demand figures shared by the district and the street boards ----------------------------


def _label_maps() -> dict[str, dict]:
    return {
        "channel": dict(Channel.choices),
        "demand_type": dict(DemandType.choices),
        "category_id": dict(Category.objects.filter(level=1).values_list("pk", "name")),
    }


def _split(user, today: dt.date, month: dt.date, street=None) -> list[Chart]:
    """Today and the month by channel, type and top-level category (grouped bars)."""
    first, last = month_days(month)
    month_figures = aggregates.Figures(user, first, last, street=street)
    today_figures = aggregates.Figures(user, today, today, street=street)
    labels = _label_maps()
    charts = []
    titles = {
        "channel": _("By channel"),
        "demand_type": _("By type"),
        "category_id": _("By category"),
    }
    for field_name, title in titles.items():
        in_month = month_figures.by(field_name)
        in_today = today_figures.by(field_name)
        keys = sorted(set(in_month) | set(in_today), key=lambda k: -in_month.get(k, {}).get("received", 0))
        rows = [
            [
                str(labels[field_name].get(k, k) if k else _("Uncategorised")),
                in_today.get(k, {}).get("received", 0),
                in_month.get(k, {}).get("received", 0),
            ]
            for k in keys
        ]
        charts.append(
            Chart(
                f"by_{field_name.removesuffix('_id')}",
                title,
                "hbar",
                [str(title), _("Today"), _("Month %(month)s") % {"month": f"{month:%Y-%m}"}],
                rows[:15],
            )
        )
    return charts


def _trend(user, end: dt.date, days: int = 90, street=None) -> Chart:
    first = end - dt.timedelta(days=days - 1)
    per_day = aggregates.Figures(user, first, end, street=street).by("day")
    rows = []
    for i in range(days):
        day = first + dt.timedelta(days=i)
        counts = per_day.get(day, {})
        rows.append([day.isoformat(), counts.get("received", 0), counts.get("closed", 0)])
    return Chart(
        "trend",
        _("Demands per day, last %(days)s days") % {"days": days},
        "line",
        [_("Day"), _("Received"), _("Closed since (of that day's demands)")],
        rows,
    )


def _overdue(user, now: dt.datetime, street=None, limit: int = 15) -> tuple[int, Chart]:
    by_unit = aggregates.overdue_by_unit(user, now, street=street)
    names = dict(OrgUnit.objects.filter(pk__in=[pk for pk in by_unit if pk]).values_list("pk", "name"))
    total = sum(n for n, _c, _f in by_unit.values())
    rows = sorted(
        ([names.get(pk) or _("Not dispatched"), c, f] for pk, (_n, c, f) in by_unit.items()),
        key=lambda r: (-(r[1] + r[2]), r[0]),
    )
    chart = Chart(
        "overdue",
        _("Overdue open demands by lead unit"),
        "stack",
        [_("Lead unit"), _("Contact overdue"), _("Finish overdue")],
        rows[:limit],
        note=_("Recounted every minute: overdue depends on the clock, not on events."),
    )
    return total, chart


def _hot(user, street=None, limit: int = 10) -> Chart:
    as_of = selectors.latest_hot_spot_day()
    spots = selectors.hot_spots_visible_to(user, as_of=as_of)
    if street is not None:
        spots = spots.filter(street=street)
    rows = [
        [
            s.label,
            round(s.heat, 1),
            s.demand_count,
            s.street.name if s.street else "",
            _("yes") if s.rising else "",
        ]
        for s in spots.order_by("number")[:limit]
    ]
    return Chart(
        "hot_spots",
        _("Top problems (hot spots of %(day)s)") % {"day": as_of.isoformat() if as_of else "—"},
        "hbar",
        [_("Problem"), _("Heat"), _("Demands"), _("Street/town"), _("Rising")],
        rows,
        series=1,
    )


def _street_rankings(month: dt.date) -> list:
    rankings = aggregates.cached_rankings(month, [RankingGroup.STREET, RankingGroup.TOWN])
    rows = [row for g in (RankingGroup.STREET, RankingGroup.TOWN) for row in rankings[g].rows]
    return sorted(rows, key=lambda r: (r.rates.composite is None, -(r.rates.composite or 0), r.unit.code))


def _cards(user, today, month, now, street=None) -> tuple[list, dict]:
    first, last = month_days(month)
    in_month = aggregates.Figures(user, first, last, street=street).totals()
    in_today = aggregates.Figures(user, today, today, street=street).totals()
    cards = [
        (_("Received today"), in_today["received"]),
        (_("Received in %(month)s") % {"month": f"{month:%Y-%m}"}, in_month["received"]),
        (_("Still open (of the month's)"), in_month["open"]),
        (_("Satisfied (of the rated)"), _percent(_pct(in_month["satisfied"], in_month["rated"]))),
    ]
    return cards, in_month


# --- the boards ---------------------------------------------------------------------------------


def district(user, month: dt.date | None = None, now: dt.datetime | None = None) -> Board:
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    month = (month or this_month()).replace(day=1)
    board = Board("district", _("District overview"))
    board.cards, _in_month = _cards(user, today, month, now)
    overdue_total, overdue_chart = _overdue(user, now)
    board.cards.append((_("Overdue now"), overdue_total))
    board.charts += _split(user, today, month)
    board.charts.append(_trend(user, min(today, month_days(month)[1])))

    ranked = _street_rankings(month)
    board.charts.append(
        Chart(
            "rates_by_street",
            _("三率 composite by street/town, %(month)s") % {"month": f"{month:%Y-%m}"},
            "hbar",
            [
                _("Street/town"),
                _("Composite"),
                _("Response rate"),
                _("Resolution rate"),
                _("Satisfaction rate"),
                _("Demands"),
            ],
            [
                [
                    r.unit.short_name or r.unit.name,
                    _rate(r.rates.composite),
                    _rate(r.rates.response_rate),
                    _rate(r.rates.resolution_rate),
                    _rate(r.rates.satisfaction_rate),
                    r.rates.demands,
                ]
                for r in ranked
            ],
            note=_("Units with too few demands have no composite and are listed last."),
            series=1,
        )
    )
    # the "map": every street/town as a tile, sized by the month's demands located there, coloured
    # by its composite (no offline GeoJSON of Fengtai's streets exists: a treemap, not a map)
    first, last = month_days(month)
    located = aggregates.Figures(user, first, last).by("street_id")
    composite = {r.unit.pk: _rate(r.rates.composite) for r in ranked}
    streets = OrgUnit.objects.filter(kind__in=roles.STREET_LEVEL_KINDS, is_active=True).order_by("path")
    board.charts.append(
        Chart(
            "street_map",
            _("Streets and towns: demands this month (size) and composite (colour)"),
            "treemap",
            [_("Street/town"), _("Demands"), _("Composite")],
            [
                [s.short_name or s.name, located.get(s.pk, {}).get("received", 0), composite.get(s.pk)]
                for s in streets
            ],
            note=_(
                "A tile per street/town instead of a map: there is no offline boundary map of Fengtai's streets."
            ),
        )
    )
    board.charts.append(overdue_chart)
    board.charts.append(_hot(user))
    return board


def streets_for(user):
    """The streets/towns whose board `user` may open: all for the district-wide roles, else the
    street-level units their unit covers or lies in."""
    streets = OrgUnit.objects.filter(kind__in=roles.STREET_LEVEL_KINDS).order_by("path")
    if roles.is_district_wide(user):
        return streets
    if not roles.works_in_unit(user):
        return streets.none()
    own = user.unit.street()
    if own is not None:
        return streets.filter(pk=own.pk)
    return streets.filter(path__startswith=user.unit.path)


def street(user, street_unit: OrgUnit, month: dt.date | None = None, now: dt.datetime | None = None) -> Board:
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    month = (month or this_month()).replace(day=1)
    board = Board("street", street_unit.name)
    board.cards, _in_month = _cards(user, today, month, now, street=street_unit)
    overdue_total, overdue_chart = _overdue(user, now, street=street_unit)
    board.cards.append((_("Overdue now"), overdue_total))
    board.charts += _split(user, today, month, street=street_unit)
    board.charts.append(_trend(user, min(today, month_days(month)[1]), street=street_unit))
    # communities: a month of one street is a few thousand demands on the (street, received_at) index
    first, last = month_days(month)
    start, end = aggregates.day_bounds(first, last)
    per_community = (
        aggregates.lead_scope(unscoped_demands(), user)
        .filter(street=street_unit, received_at__gte=start, received_at__lt=end)
        .order_by()
        .values("community__name")
        .annotate(n=Count("pk"), open=Count("pk", filter=Q(state__in=aggregates.OPEN_STATES)))
        .values_list("community__name", "n", "open")
    )
    rows = sorted(([c or _("No community"), n, o] for c, n, o in per_community), key=lambda r: (-r[1], r[0]))
    board.charts.append(
        Chart(
            "communities",
            _("By community, %(month)s") % {"month": f"{month:%Y-%m}"},
            "hbar",
            [_("Community"), _("Received"), _("Still open")],
            rows[:30],
        )
    )
    ranked = [r for r in _street_rankings(month) if r.unit.pk == street_unit.pk]
    rates = ranked[0].rates if ranked else None
    board.charts.append(
        Chart(
            "rates",
            _("三率 of the street/town, %(month)s") % {"month": f"{month:%Y-%m}"},
            "bar",
            [_("Figure"), _("Rate (%)")],
            [
                [_("Response rate"), _rate(rates.response_rate) if rates else None],
                [_("Resolution rate"), _rate(rates.resolution_rate) if rates else None],
                [_("Satisfaction rate"), _rate(rates.satisfaction_rate) if rates else None],
                [_("Composite"), _rate(rates.composite) if rates else None],
            ],
        )
    )
    board.charts.append(overdue_chart)
    board.charts.append(_hot(user, street=street_unit))
    return board


def may_open_enterprise(user) -> bool:
    return roles.is_district_wide(user) or (roles.is_active(user) and user.role == roles.Role.SERVICE_MANAGER)


def enterprise(user, month: dt.date | None = None, now: dt.datetime | None = None) -> Board:
    from changxin.port import selectors as port
    from changxin.port.models import Stage, Zone

    now = now or timezone.now()
    month = (month or this_month()).replace(day=1)
    board = Board("enterprise", _("Enterprise service (先丰港)"))
    # the monthly pre-aggregate: the district's for the district-wide roles, a service manager's
    # own enterprises' (their board's subject, as the visits below) for a manager
    manager = None if roles.is_district_wide(user) else user
    count = aggregates.enterprise_total(month, manager=manager)
    board.cards = [(_("Enterprise demands since %(month)s") % {"month": f"{month:%Y-%m}"}, count)]
    columns = [
        _("Name"),
        _("Demands"),
        _("Replied"),
        _("Replied on time"),
        _("On-time rate (%)"),
        _("Rated"),
        _("Satisfaction rate (%)"),
    ]
    for by, key, title in (
        ("manager", "by_manager", _("Enterprise demands by service manager")),
        ("unit", "by_department", _("Enterprise demands by lead unit (department)")),
    ):
        ranking = aggregates.enterprise_ranking(month, by=by, manager=manager)
        board.charts.append(
            Chart(
                key,
                title,
                "hbar",
                columns,
                [
                    [
                        r["name"],
                        r["total"],
                        r["done"],
                        r["on_time"],
                        r["on_time_rate"],
                        r["rated"],
                        r["satisfaction_rate"],
                    ]
                    for r in ranking
                ],
                series=3,
            )
        )
    projects = port.projects_visible_to(user).order_by().values("zone", "stage").annotate(n=Count("pk"))
    grid: dict[str, dict[str, int]] = {}
    for row in projects:
        grid.setdefault(row["zone"], {})[row["stage"]] = row["n"]
    board.charts.append(
        Chart(
            "projects",
            _("Investment projects per stage and functional zone"),
            "stack",
            [_("Functional zone"), *[str(label) for _v, label in Stage.choices]],
            [
                [str(label), *[grid.get(zone, {}).get(stage, 0) for stage, _l in Stage.choices]]
                for zone, label in Zone.choices
                if zone in grid
            ],
        )
    )
    # port's visit rules (`visit_interval`) over plain rows, the last visits in one grouped query on a
    # subquery (a district has thousands of enterprises: no model instances, no list of ids)
    from changxin.port.models import Visit

    visible = port.own_enterprises(user).filter(is_active=True).order_by()
    last = dict(
        Visit.objects.filter(enterprise__in=visible.values("pk"))
        .order_by()
        .values("enterprise")
        .annotate(last=Max("visited_on"))
        .values_list("enterprise", "last")
    )
    fields = (
        "created_at",
        "size",
        "visit_interval_days",
        "is_key",
        "is_specialised",
        "is_high_tech",
        "is_listed",
    )
    today = timezone.localtime(now).date()
    overdue: dict[str, list[int]] = {}
    for row in visible.values("pk", "manager__full_name", "manager__username", *fields):
        interval = port.visit_interval(SimpleNamespace(**{f: row[f] for f in fields}))
        if interval is None:
            continue
        previous = last.get(row["pk"])
        due = (
            previous + dt.timedelta(days=interval)
            if previous
            else timezone.localtime(row["created_at"]).date()
        )
        name = row["manager__full_name"] or row["manager__username"] or _("No service manager")
        counts = overdue.setdefault(name, [0, 0])
        counts[0] += 1
        counts[1] += due < today
    board.cards.append((_("Visits overdue"), sum(c[1] for c in overdue.values())))
    board.charts.append(
        Chart(
            "visits",
            _("Visit plans and overdue visits by service manager"),
            "hbar",
            [_("Service manager"), _("Overdue visits"), _("Enterprises with a visit plan")],
            sorted(([n, c[1], c[0]] for n, c in overdue.items()), key=lambda r: (-r[1], r[0])),
        )
    )
    return board


def may_open_party(user) -> bool:
    from changxin.pioneers.selectors import is_party_staff

    return roles.is_district_wide(user) or is_party_staff(user)


def party(user, year: int | None = None, top: int = 10) -> Board:
    from changxin.pioneers import selectors as pioneers
    from changxin.pioneers.models import DevelopmentCase, PartyMember, PointTotal, Stage

    year = year or timezone.localdate().year
    board = Board("party", _("Party work (先锋者)"))
    # the members of the organisations the viewer sees (one scoped query on the small organisation
    # table, not the member scope's subquery per member row)
    organisations = list(pioneers.organisations_visible_to(user).values_list("pk", flat=True))
    members = PartyMember.objects.filter(organisation__in=organisations).order_by()
    by_org = members.values("organisation__name").annotate(n=Count("pk")).order_by("-n", "organisation__name")
    board.cards = [(_("Party members"), members.count())]
    board.charts.append(
        Chart(
            "members_by_org",
            _("Party members by organisation"),
            "hbar",
            [_("Organisation"), _("Members")],
            [[r["organisation__name"], r["n"]] for r in by_org[:25]],
        )
    )
    totals = (
        PointTotal.objects.filter(member__organisation__in=organisations, year=year)
        .select_related("member__organisation")
        .order_by("-total", "member__name")[:top]
    )
    board.charts.append(
        Chart(
            "points_top",
            _("Points ranking %(year)s, top %(n)s") % {"year": year, "n": top},
            "hbar",
            [_("Member"), _("Points"), _("Organisation")],
            [[t.member.name, t.total, t.member.organisation.name] for t in totals],
            series=1,
        )
    )
    cases = (
        DevelopmentCase.objects.filter(organisation__in=organisations)
        .order_by()
        .values("stage")
        .annotate(n=Count("pk"))
    )
    counts = {row["stage"]: row["n"] for row in cases}
    board.charts.append(
        Chart(
            "pipeline",
            _("Party development pipeline by stage"),
            "bar",
            [_("Stage"), _("People")],
            [[str(label), counts.get(stage, 0)] for stage, label in Stage.choices],
        )
    )
    board.cards.append(
        (
            _("In the development pipeline"),
            sum(n for s, n in counts.items() if s not in ("full", "cancelled")),
        )
    )
    return board


BOARD_TITLES = {
    "district": gettext_lazy("District overview"),
    "street": gettext_lazy("Street/town"),
    "enterprise": gettext_lazy("Enterprise service"),
    "party": gettext_lazy("Party work"),
}

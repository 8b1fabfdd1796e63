"""The dashboards' pre-aggregates equal the raw queries on the same data, also after new events."""

from __future__ import annotations

import datetime as dt

import pytest

from changxin.core import events
from changxin.core.models import Role, User
from changxin.core.tests.builders import CHANGXINDIAN, FENGTAI, LUGOUQIAO, at, ensure_taxonomy
from changxin.demands.models import Category
from changxin.demands.selectors import unscoped_demands
from changxin.demands.services import transition
from changxin.insight import aggregates, tasks
from changxin.insight.metrics import Period
from changxin.insight.models import (
    AggregateDirtyDay,
    DailyDemandCount,
    DistrictDailySlice,
    RankingCache,
    UnitDailySlice,
)
from changxin.insight.rankings import live_rankings

H = dt.timedelta(hours=1)
MARCH = dt.date(2025, 3, 1)
FIRST, LAST = dt.date(2025, 3, 1), dt.date(2025, 3, 31)
KEYS = ("day", "lead_unit_id", "street_id", "category_id", "channel", "demand_type")


@pytest.fixture
def data(world):
    """Three days, three streets, two categories and channels; on-time, late, closed, rated,
    dissatisfied, unrated and open demands."""
    w = world
    leaf = ensure_taxonomy()
    other = Category.objects.filter(level=3).exclude(parent__parent=leaf.parent.parent).first() or leaf
    demands = {}
    for day, street, kind, channel, category in [
        (3, LUGOUQIAO, "complaint", "hotline", leaf),
        (3, LUGOUQIAO, "help", "web", other),
        (4, CHANGXINDIAN, "complaint", "hotline", leaf),
        (4, LUGOUQIAO, "consult", "hotline", None),
        (5, FENGTAI, "report", "mini_program", other),
        (5, CHANGXINDIAN, "complaint", "web", leaf),
    ]:
        demands[(day, street, kind)] = w.new(
            at(day, 9), street=street, demand_type=kind, channel=channel, category=category
        )
    w.handle(
        demands[(3, LUGOUQIAO, "complaint")],
        LUGOUQIAO,
        at(3, 10),
        resolution="resolved",
        satisfaction="satisfied",
    )
    w.handle(
        demands[(3, LUGOUQIAO, "help")],
        LUGOUQIAO,
        at(3, 10),
        contact_after=72 * H,
        resolution="partly",
        satisfaction="dissatisfied",
    )
    w.handle(
        demands[(4, CHANGXINDIAN, "complaint")],
        CHANGXINDIAN,
        at(4, 10),
        resolution="resolved",
        satisfaction="unrated",
    )
    w.handle(demands[(4, LUGOUQIAO, "consult")], LUGOUQIAO, at(4, 10), contact_after=None)  # open
    w.handle(demands[(5, FENGTAI, "report")], FENGTAI, at(5, 10), resolution="resolved", satisfaction="basic")
    # 5 March Changxindian: received only, never dispatched
    events.catch_up()
    tasks.refresh_aggregates()
    return demands


def viewers(world):
    leader = world.leader
    officer = world.officer(LUGOUQIAO)
    citizen = world.citizen
    return [leader, officer, world.officer(CHANGXINDIAN), citizen]


def assert_equal_to_raw(world):
    for user in viewers(world):
        rows = aggregates.counts_for(user, FIRST, LAST)
        assert aggregates.totals(rows) == aggregates.raw_counts(user, FIRST, LAST), user
        for key in KEYS:
            assert aggregates.totals_by(rows, key) == aggregates.raw_counts(user, FIRST, LAST, by=key), (
                user,
                key,
            )
        for street_code in (LUGOUQIAO, CHANGXINDIAN):
            street = world.unit(street_code)
            assert aggregates.totals(
                aggregates.counts_for(user, FIRST, LAST, street=street)
            ) == aggregates.raw_counts(user, FIRST, LAST, street=street)
        # a single day, as the "today" figures read it
        day = dt.date(2025, 3, 4)
        assert aggregates.totals(aggregates.counts_for(user, day, day)) == aggregates.raw_counts(
            user, day, day
        )


def test_events_build_the_aggregate_and_it_equals_the_raw_query(world, data):
    assert DailyDemandCount.objects.exists()
    assert not AggregateDirtyDay.objects.exists()
    assert_equal_to_raw(world)
    district = aggregates.totals(aggregates.counts_for(world.leader, FIRST, LAST))
    assert district["received"] == 6
    assert district["closed"] == 4
    assert district["rated"] == 3 and district["satisfied"] == 2 and district["dissatisfied"] == 1
    assert district["contacted"] == 4 and district["contacted_on_time"] == 3
    # the scope: Lugouqiao's officer counts what Lugouqiao leads, the public nothing
    assert aggregates.totals(aggregates.counts_for(world.officer(LUGOUQIAO), FIRST, LAST))["received"] == 3
    assert aggregates.totals(aggregates.counts_for(world.citizen, FIRST, LAST))["received"] == 0


def test_new_events_refresh_the_aggregate(world, data):
    before = aggregates.totals(aggregates.counts_for(world.leader, FIRST, LAST))
    open_one = data[(4, LUGOUQIAO, "consult")]
    officer = world.officer(LUGOUQIAO)
    transition(open_one, "contact", officer, note="电话联系", now=at(4, 12))
    transition(open_one, "reply", officer, note="已答复", now=at(4, 14))
    transition(
        open_one,
        "return_visit",
        world.operator,
        now=at(5, 9),
        resolution="resolved",
        satisfaction="satisfied",
    )
    fresh = world.new(at(6, 9), street=CHANGXINDIAN)  # a new day
    world.dispatch(fresh, CHANGXINDIAN, at(6, 10))
    events.catch_up()
    assert AggregateDirtyDay.objects.filter(day=dt.date(2025, 3, 4)).exists()
    tasks.refresh_aggregates()
    after = aggregates.totals(aggregates.counts_for(world.leader, FIRST, LAST))
    assert after["received"] == before["received"] + 1
    assert after["closed"] == before["closed"] + 1
    assert after["satisfied"] == before["satisfied"] + 1
    assert_equal_to_raw(world)


def test_rebuild_all_matches_the_event_built_rows(world, data):
    def snapshot():
        fields = (
            "day",
            "lead_unit_id",
            "street_id",
            "category_id",
            "channel",
            "demand_type",
            *aggregates.COUNTS,
        )
        return sorted(tuple(str(r[k]) for k in fields) for r in DailyDemandCount.objects.values())

    built = snapshot()
    DailyDemandCount.objects.all().delete()
    aggregates.rebuild_all()
    assert snapshot() == built


def test_a_day_marked_again_while_rebuilt_stays_dirty(world, data):
    day = dt.date(2025, 3, 3)
    aggregates.mark_dirty([day], now=at(10, 9))
    row = AggregateDirtyDay.objects.get(day=day)
    aggregates.rebuild(day, day)
    aggregates.mark_dirty([day], now=at(10, 10))  # an event arrived meanwhile
    AggregateDirtyDay.objects.filter(pk=row.pk, marked_at=row.marked_at).delete()
    assert AggregateDirtyDay.objects.filter(day=day).exists()


def test_cached_ranking_equals_the_live_ranking_and_follows_events(world, data):
    def counts(rankings):
        return {(g, r.unit.pk): (r.rank, r.rates.counts()) for g, rk in rankings.items() for r in rk.rows}

    cached = aggregates.cached_rankings(MARCH)
    assert counts(cached) == counts(live_rankings(MARCH))
    assert RankingCache.objects.filter(month=MARCH, stale=False).exists()
    late = world.new(at(7, 9), street=LUGOUQIAO)
    world.handle(late, LUGOUQIAO, at(7, 10), resolution="unresolved", satisfaction="dissatisfied")
    events.catch_up()
    assert RankingCache.objects.get(month=MARCH).stale
    tasks.refresh_aggregates()
    assert counts(aggregates.cached_rankings(MARCH)) == counts(live_rankings(MARCH))
    lugouqiao = next(r for r in aggregates.cached_rankings(MARCH)["street"].rows if r.unit.code == LUGOUQIAO)
    assert lugouqiao.rates.dissatisfied == 2


def test_the_period_helpers_agree_with_metrics(world):
    start, end = aggregates.day_bounds(FIRST, LAST)
    period = Period.month(MARCH)
    assert (start, end) == (period.start, period.end)


def test_an_unsaved_reader_is_not_a_user_row(world, data):
    assert not User.objects.filter(role=Role.LEADERSHIP, username="monthly-report").exists()


# --- the narrow slices and the enterprise counts -------------------------------------------------

FIGURE_KEYS = ("day", "street_id", "category_id", "channel", "demand_type")


def assert_figures_equal_raw(world):
    """What the boards read (`Figures`: the district's slices, a unit's slices, one street's daily
    rows) equals the raw query, for every viewer, every breakdown, a month, a day and a street."""
    for user in viewers(world):
        for first, last in ((FIRST, LAST), (dt.date(2025, 3, 4), dt.date(2025, 3, 4))):
            figures = aggregates.Figures(user, first, last)
            assert figures.totals() == aggregates.raw_counts(user, first, last), user
            for key in FIGURE_KEYS:
                assert figures.by(key) == aggregates.raw_counts(user, first, last, by=key), (user, key)
        for street_code in (LUGOUQIAO, CHANGXINDIAN):
            street = world.unit(street_code)
            figures = aggregates.Figures(user, FIRST, LAST, street=street)
            assert figures.totals() == aggregates.raw_counts(user, FIRST, LAST, street=street)
            assert figures.by("channel") == aggregates.raw_counts(
                user, FIRST, LAST, by="channel", street=street
            )


def test_the_slices_equal_the_raw_query_and_follow_events(world, data):
    assert DistrictDailySlice.objects.exists() and UnitDailySlice.objects.exists()
    assert_figures_equal_raw(world)
    # a street officer reads the unit slices: what Lugouqiao leads, not the district
    assert aggregates.Figures(world.officer(LUGOUQIAO), FIRST, LAST).totals()["received"] == 3
    assert aggregates.Figures(world.citizen, FIRST, LAST).totals()["received"] == 0
    open_one = data[(4, LUGOUQIAO, "consult")]
    officer = world.officer(LUGOUQIAO)
    transition(open_one, "contact", officer, note="电话联系", now=at(4, 12))
    transition(open_one, "reply", officer, note="已答复", now=at(4, 14))
    moved = data[(5, CHANGXINDIAN, "complaint")]
    world.dispatch(moved, LUGOUQIAO, at(5, 11))  # never dispatched until now: joins Lugouqiao's slices
    world.new(at(6, 9), street=FENGTAI, channel="web")  # a new day
    events.catch_up()
    tasks.refresh_aggregates()
    assert aggregates.Figures(officer, FIRST, LAST).totals()["received"] == 4
    assert_figures_equal_raw(world)


def test_rebuild_all_matches_the_event_built_slices(world, data):
    def snapshot(model, *keys):
        fields = (*keys, "dimension", "key", *aggregates.COUNTS)
        return sorted(tuple(str(r[k]) for k in fields) for r in model.objects.values())

    built = (snapshot(DistrictDailySlice, "day"), snapshot(UnitDailySlice, "day", "lead_unit_id"))
    DistrictDailySlice.objects.all().delete()
    UnitDailySlice.objects.all().delete()
    aggregates.rebuild_all()
    assert (snapshot(DistrictDailySlice, "day"), snapshot(UnitDailySlice, "day", "lead_unit_id")) == built


@pytest.fixture
def enterprise_data(world, data):
    """Two enterprises with service managers; enterprise demands filed through port on three days,
    one handled and rated, one rated dissatisfied, one open."""
    from changxin.port import services as port
    from changxin.port.uscc import complete

    managers, accounts, enterprises = [], [], []
    for i, street in enumerate((LUGOUQIAO, CHANGXINDIAN)):
        managers.append(
            User.objects.create_user(
                f"mgr{i}", role=Role.SERVICE_MANAGER, unit=world.unit(street), full_name=f"管家{i}"
            )
        )
        accounts.append(User.objects.create_user(f"ent{i}", role=Role.ENTERPRISE))
        enterprises.append(
            port.register_enterprise(
                {
                    "name": f"测试企业{i}",
                    "credit_code": complete(f"91110106MA{i + 1:07d}"),
                    "street": world.unit(street),
                    "zone": "lize",
                    "manager": managers[i],
                },
                actor=world.admin,
                members=[accounts[i]],
            )
        )
    filed = []
    for i, day in ((0, 3), (0, 4), (1, 5), (1, 6)):
        need = {"title": "办公楼停车难", "content": "园区停车位不足，请协调", "demand_type": "help"}
        demand, _created = port.file_enterprise_demand(
            enterprises[i], need, actor=accounts[i], now=at(day, 9)
        )
        filed.append(demand)
    for demand, manager, satisfaction in (
        (filed[0], managers[0], "satisfied"),
        (filed[2], managers[1], "dissatisfied"),
    ):
        for step, kwargs in (
            ("acknowledge", {}),
            ("contact", {"note": "已联系"}),
            ("start", {}),
            ("reply", {"note": "已解决"}),
        ):
            transition(demand, step, manager, now=demand.received_at + H, **kwargs)
        transition(
            demand,
            "return_visit",
            world.operator,
            now=demand.received_at + 2 * H,
            resolution="resolved",
            satisfaction=satisfaction,
        )
    events.catch_up()
    tasks.refresh_aggregates()
    return {"managers": managers, "enterprises": enterprises, "filed": filed}


def assert_enterprise_equal_raw(world):
    from changxin.port import selectors as port
    from changxin.port.models import EnterpriseDemand

    for month in (MARCH, dt.date(2025, 2, 1), dt.date(2025, 4, 1)):
        since = aggregates.day_bounds(month, month)[0]
        for by in ("manager", "unit"):
            assert aggregates.enterprise_ranking(month, by=by) == port.enterprise_demand_ranking(
                world.leader, by=by, since=since
            ), (month, by)
        assert (
            aggregates.enterprise_total(month)
            == port.demand_links(world.leader).filter(demand__received_at__gte=since).count()
        )
        # a service manager's board: the enterprises they manage, equal to the raw links
        for manager in User.objects.filter(role=Role.SERVICE_MANAGER):
            links = EnterpriseDemand.objects.filter(
                enterprise__manager=manager, demand__received_at__gte=since
            )
            for by in ("manager", "unit"):
                assert aggregates.enterprise_ranking(
                    month, by=by, manager=manager
                ) == aggregates.links_ranking(links, by=by), (month, by, manager)
            assert aggregates.enterprise_total(month, manager=manager) == links.count()
        # links_ranking itself is port's ranking (over the district's links)
        assert aggregates.links_ranking(
            EnterpriseDemand.objects.filter(demand__received_at__gte=since)
        ) == port.enterprise_demand_ranking(world.leader, since=since)


def test_the_enterprise_counts_equal_the_raw_query_and_follow_events(world, enterprise_data):
    from changxin.port import services as port

    assert_enterprise_equal_raw(world)
    ranking = aggregates.enterprise_ranking(MARCH, by="manager")
    assert sorted((r["name"], r["total"], r["done"], r["rated"]) for r in ranking) == [
        ("管家0", 2, 1, 1),
        ("管家1", 2, 1, 1),
    ]
    # a new event (a reply) and a manager reassigned (no demand event: read through the enterprise)
    open_one = enterprise_data["filed"][1]
    manager = enterprise_data["managers"][0]
    for step, kwargs in (
        ("acknowledge", {}),
        ("contact", {"note": "已联系"}),
        ("start", {}),
        ("reply", {"note": "已解决"}),
    ):
        transition(open_one, step, manager, now=at(4, 12), **kwargs)
    port.assign_manager(enterprise_data["enterprises"][0], enterprise_data["managers"][1], actor=world.admin)
    events.catch_up()
    tasks.refresh_aggregates()
    assert_enterprise_equal_raw(world)
    assert [(r["name"], r["total"], r["done"]) for r in aggregates.enterprise_ranking(MARCH)] == [
        ("管家1", 4, 3)
    ]


def test_the_enterprise_board_reads_the_counts_for_the_district(client, world, enterprise_data):
    from django.urls import reverse

    client.force_login(world.leader)
    board = client.get(reverse("insight:dashboard-enterprise"), {"month": "2025-03"}).context["board"]
    by_manager = board.chart("by_manager").rows
    assert sorted(row[:4] for row in by_manager) == [["管家0", 2, 1, 1], ["管家1", 2, 1, 1]]
    # a service manager's own board stays on the raw scoped query: their enterprises only
    client.force_login(enterprise_data["managers"][0])
    board = client.get(reverse("insight:dashboard-enterprise"), {"month": "2025-03"}).context["board"]
    assert [row[:2] for row in board.chart("by_manager").rows] == [["管家0", 2]]


def test_the_overdue_counts_equal_the_live_query(world, data):
    now = at(20, 9)  # every open demand of the fixture is overdue by then

    def live(user, street=None):
        demands = aggregates.lead_scope(unscoped_demands(), user)
        if street is not None:
            demands = demands.filter(street=street)
        return {key[0]: counts for key, counts in aggregates.overdue_grouped(demands, now).items()}

    def check():
        aggregates.refresh_overdue(now)
        for user in viewers(world):
            assert aggregates.overdue_by_unit(user, now) == live(user), user
            for code in (LUGOUQIAO, CHANGXINDIAN):
                street = world.unit(code)
                assert aggregates.overdue_by_unit(user, now, street=street) == live(user, street), (
                    user,
                    code,
                )

    def overdue(user):
        return sum(n for n, _c, _f in aggregates.overdue_by_unit(user, now).values())

    check()
    assert overdue(world.leader) == overdue(world.officer(LUGOUQIAO)) == 1  # Lugouqiao's open consult
    assert overdue(world.officer(CHANGXINDIAN)) == 0
    officer = world.officer(LUGOUQIAO)
    open_one = data[(4, LUGOUQIAO, "consult")]
    transition(open_one, "contact", officer, note="电话联系", now=at(19, 12))
    transition(open_one, "reply", officer, note="已答复", now=at(19, 14))
    check()
    assert overdue(world.leader) == 0
    # counts older than OVERDUE_MAX_AGE (the job stopped) are not read: the live query answers
    aggregates.refresh_overdue(now - dt.timedelta(hours=1))
    fresh = world.new(at(10, 9), street=LUGOUQIAO)
    world.dispatch(fresh, LUGOUQIAO, at(10, 10))
    assert aggregates.overdue_by_unit(world.leader, now) == live(world.leader)
    assert overdue(world.leader) == 1

"""三率 on hand-built cases: every rule in RULES.md with its exact effect on the figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings

from changxin.core.models import RankingGroup
from changxin.core.tests.builders import CHANGXINDIAN, CHENGGUAN, FENGTAI, LUGOUQIAO, at
from changxin.demands.models import RankingWeights
from changxin.demands.services import transition
from changxin.insight import metrics
from changxin.insight.metrics import Period, demands_behind, rates_by_unit, rates_for_unit, weights_for_month
from changxin.insight.rankings import monthly_ranking

MARCH = dt.date(2025, 3, 1)
H = dt.timedelta(hours=1)


def march_rates(world, code):
    return rates_for_unit(world.unit(code), Period.month(MARCH), weights_for_month(MARCH))


@pytest.fixture
def scenarios(world):
    """Lugouqiao's March 2025, one demand per rule. Dispatched Tuesday 4 March 10:00 (contact due
    Wednesday 10:00, 1 working day)."""
    t = at(4, 10)
    w = world
    d = {}
    # on time, resolved, satisfied
    d["ontime"] = w.handle(
        w.new(t), LUGOUQIAO, t, contact_after=3 * H, resolution="resolved", satisfaction="satisfied"
    )
    # late contact (Thursday), partly resolved, basically satisfied
    d["late"] = w.handle(
        w.new(t), LUGOUQIAO, t, contact_after=48 * H, resolution="partly", satisfaction="basic"
    )
    # on time, unresolved, dissatisfied
    d["dissatisfied"] = w.handle(w.new(t), LUGOUQIAO, t, resolution="unresolved", satisfaction="dissatisfied")
    # on time, resolved, dissatisfied but the rating is excluded as unreasonable
    d["excluded"] = w.handle(w.new(t), LUGOUQIAO, t, resolution="resolved", satisfaction="dissatisfied")
    transition(d["excluded"], "exclude_rating", w.operator, note="诉求超出政策范围", now=at(10))
    # on time, requester unreachable three times → unrated, no resolution answer
    d["unrated"] = w.handle(w.new(t), LUGOUQIAO, t, satisfaction="unrated")
    # dispatched, never contacted
    d["silent"] = w.handle(w.new(t), LUGOUQIAO, t, contact_after=None)
    # dispute upheld: re-dispatched to Changxindian, which contacts on time → Changxindian's only
    d["upheld"] = w.new(t)
    w.dispatch(d["upheld"], LUGOUQIAO, t)
    transition(d["upheld"], "dispute", w.officer(LUGOUQIAO), note="不在辖区", reason="wrong_place", now=t + H)
    transition(
        d["upheld"], "redispatch", w.operator, note="改派", lead_unit=w.unit(CHANGXINDIAN), now=t + 2 * H
    )
    w.handle(
        d["upheld"], CHANGXINDIAN, t + 2 * H, contact_after=H, resolution="resolved", satisfaction="satisfied"
    )
    # dispute rejected: stays Lugouqiao's; contact on time against the original deadline
    d["rejected"] = w.new(t)
    w.dispatch(d["rejected"], LUGOUQIAO, t)
    transition(
        d["rejected"], "dispute", w.officer(LUGOUQIAO), note="非我职责", reason="not_our_duty", now=t + H
    )
    transition(d["rejected"], "reject_dispute", w.operator, note="属地责任", now=t + 2 * H)
    transition(d["rejected"], "contact", w.officer(LUGOUQIAO), note="电话联系", now=t + 4 * H)
    # a duplicate merged into "ontime": not counted again
    d["duplicate"] = w.new(t)
    w.dispatch(d["duplicate"], LUGOUQIAO, t)
    transition(d["duplicate"], "merge", w.operator, note="重复诉求", master=d["ontime"], now=t + H)
    # praise: recorded, not assessed
    d["praise"] = w.handle(
        w.new(t, demand_type="praise"), LUGOUQIAO, t, resolution="resolved", satisfaction="satisfied"
    )
    # dispatched in February / April: other months
    w.handle(
        w.new(at(27, month=2)), LUGOUQIAO, at(27, month=2), resolution="resolved", satisfaction="satisfied"
    )
    w.handle(
        w.new(at(1, month=4)), LUGOUQIAO, at(1, month=4), resolution="unresolved", satisfaction="dissatisfied"
    )
    return d


def test_exact_rates_for_every_rule(world, scenarios):
    r = march_rates(world, LUGOUQIAO)
    # dispatched: ontime late dissatisfied excluded unrated silent rejected (upheld, duplicate, praise out)
    assert r.dispatched == 7
    # on time: ontime dissatisfied excluded unrated rejected (late and silent not)
    assert r.responded == 5
    assert r.response_rate == Decimal(5) / 7
    # resolution answers: ontime(resolved) late(partly) dissatisfied(unresolved); the excluded
    # rating's demand is out of resolution too (RULES.md "Excluded rating")
    assert (r.resolution_answers, r.resolved, r.partly, r.unresolved) == (3, 1, 1, 1)
    assert r.resolution_numerator == Decimal("1.5")
    assert r.resolution_rate == Decimal("0.5")
    # satisfaction answers: ontime(satisfied) late(basic) dissatisfied; excluded and unrated left out
    assert (r.satisfaction_answers, r.satisfied, r.basic, r.dissatisfied) == (3, 1, 1, 1)
    assert (r.unrated, r.excluded) == (1, 1)
    assert r.satisfaction_numerator == Decimal("1.8")
    assert r.satisfaction_rate == Decimal("0.6")
    expected = (
        Decimal("0.10") * Decimal(5) / 7 + Decimal("0.45") * Decimal("0.5") + Decimal("0.45") * Decimal("0.6")
    )
    assert r.composite == expected
    assert r.demands == 7 and r.rankable

    other = march_rates(world, CHANGXINDIAN)
    assert (other.dispatched, other.responded, other.resolved, other.satisfied) == (1, 1, 1, 1)
    assert other.composite == 1
    assert not other.rankable  # one demand: shown apart, not ranked


def test_drill_lists_are_the_counted_demands(world, scenarios):
    d = scenarios
    period = Period.month(MARCH)
    unit = world.unit(LUGOUQIAO)

    def pks(metric, part):
        return set(demands_behind(period, metric, part, unit).values_list("pk", flat=True))

    assert pks("response", "denominator") == {
        d[k].pk for k in ("ontime", "late", "dissatisfied", "excluded", "unrated", "silent", "rejected")
    }
    assert pks("response", "missed") == {d["late"].pk, d["silent"].pk}
    assert pks("resolution", "partly") == {d["late"].pk}
    assert pks("satisfaction", "denominator") == {d["ontime"].pk, d["late"].pk, d["dissatisfied"].pk}
    assert pks("satisfaction", "excluded") == {d["excluded"].pk}
    r = march_rates(world, LUGOUQIAO)
    for name, key in metrics.COUNTED.items():
        assert getattr(r, name) == len(pks(*key)), name


def test_group_by_unit_matches_per_unit_and_district_total(world, scenarios):
    period = Period.month(MARCH)
    weights = weights_for_month(MARCH)
    by_unit = rates_by_unit(period, weights)
    assert set(by_unit) == {world.unit(LUGOUQIAO).pk, world.unit(CHANGXINDIAN).pk}
    for code in (LUGOUQIAO, CHANGXINDIAN):
        single = rates_for_unit(world.unit(code), period, weights)
        grouped = by_unit[world.unit(code).pk]
        assert {k: getattr(single, k) for k in metrics.COUNTED} == {
            k: getattr(grouped, k) for k in metrics.COUNTED
        }
    lug = by_unit[world.unit(LUGOUQIAO).pk]
    assert (lug.dispatched, lug.responded, lug.satisfaction_answers) == (7, 5, 3)
    district = rates_for_unit(world.unit("110106"), period, weights)
    assert district.dispatched == 8
    assert rates_for_unit(None, period, weights).dispatched == 8


def test_reopen_keeps_response_and_waits_for_the_new_answer(world):
    t = at(4, 10)
    demand = world.handle(world.new(t), FENGTAI, t, resolution="unresolved", satisfaction="dissatisfied")
    transition(demand, "reopen", world.operator, note="重办", now=at(6, 10))
    r = march_rates(world, FENGTAI)
    assert (r.dispatched, r.responded) == (1, 1)  # the first contact was on time
    assert (r.resolution_answers, r.satisfaction_answers) == (0, 0)
    assert r.composite is None  # never rescaled over the response rate alone
    officer = world.officer(FENGTAI)
    transition(demand, "acknowledge", officer, now=at(6, 11))
    transition(demand, "contact", officer, note="再次联系", now=at(10, 11))  # late, but not the first
    transition(demand, "reply", officer, note="已修复", now=at(10, 12))
    transition(
        demand, "return_visit", world.operator, resolution="resolved", satisfaction="basic", now=at(11)
    )
    r = march_rates(world, FENGTAI)
    assert (r.responded, r.resolved, r.basic) == (1, 1, 1)
    assert r.satisfaction_rate == Decimal("0.8")


def test_weights_are_fixed_by_the_job_and_reading_never_writes(world, scenarios):
    assert weights_for_month(MARCH).pk is None  # the defaults, unsaved
    monthly_ranking(dt.date(2999, 12, 1), RankingGroup.STREET)
    assert not RankingWeights.objects.exists()  # reading a ranking wrote nothing
    before = metrics.open_month(MARCH)
    with override_settings(
        CHANGXIN_RANKING_DEFAULTS={
            "response_weight": "0.30",
            "resolution_weight": "0.35",
            "satisfaction_weight": "0.35",
            "partly_resolved_credit": "0.6",
            "basic_satisfied_credit": "0.9",
        }
    ):
        again = metrics.open_month(MARCH)
        april = metrics.open_month(dt.date(2025, 4, 1))
        assert weights_for_month(MARCH).pk == before.pk
    assert again.pk == before.pk and again.response_weight == Decimal("0.10")
    assert april.response_weight == Decimal("0.30") and april.basic_satisfied_credit == Decimal("0.9")
    assert RankingWeights.objects.count() == 2


def test_weights_must_sum_to_one_and_a_past_months_cannot_be_edited(world):
    from django.core.exceptions import ValidationError

    bad = metrics.default_weights(dt.date(2999, 12, 1))
    bad.response_weight = Decimal("0.20")
    with pytest.raises(ValidationError) as refused:
        bad.full_clean()
    assert "response_weight" in refused.value.message_dict
    with (
        override_settings(
            CHANGXIN_RANKING_DEFAULTS={**metrics.settings.CHANGXIN_RANKING_DEFAULTS, "response_weight": "0.2"}
        ),
        pytest.raises(ValidationError),
    ):
        metrics.open_month(dt.date(2999, 12, 1))
    past = metrics.open_month(MARCH)
    past.response_weight, past.resolution_weight = Decimal("0.30"), Decimal("0.25")
    with pytest.raises(ValidationError) as frozen:
        past.full_clean()
    assert "month" in frozen.value.message_dict


def test_ranking_orders_by_composite_and_breaks_ties(world, settings):
    settings.CHANGXIN_RANKING_MIN_DEMANDS = 1  # the tie rules on one or two demands each
    t = at(5, 10)
    # Fengtai and Changxindian: identical perfect records → same rank; more demands first
    for code, n in ((FENGTAI, 1), (CHANGXINDIAN, 2)):
        for _ in range(n):
            world.handle(world.new(t), code, t, resolution="resolved", satisfaction="satisfied")
    world.handle(world.new(t), LUGOUQIAO, t, resolution="partly", satisfaction="satisfied")
    ranking = monthly_ranking(MARCH, RankingGroup.STREET)
    ranked = [(row.unit.code, row.rank) for row in ranking.ranked]
    assert ranked == [(CHANGXINDIAN, 1), (FENGTAI, 2), (LUGOUQIAO, 3)]
    assert len(ranking.rows) > 3 and all(row.rank is None for row in ranking.rows[3:])
    departments = monthly_ranking(MARCH, RankingGroup.DEPARTMENT)
    assert {row.unit.code for row in departments.rows} >= {CHENGGUAN}
    assert departments.ranked == []


def test_full_tie_shares_rank(world, settings):
    settings.CHANGXIN_RANKING_MIN_DEMANDS = 1
    t = at(5, 10)
    for code in (FENGTAI, CHANGXINDIAN):
        world.handle(world.new(t), code, t, resolution="resolved", satisfaction="satisfied")
    ranked = monthly_ranking(MARCH, RankingGroup.STREET).ranked
    assert [row.rank for row in ranked] == [1, 1]
    assert [row.unit.code for row in ranked] == sorted([FENGTAI, CHANGXINDIAN])


def test_empty_month(world):
    ranking = monthly_ranking(dt.date(2025, 1, 1), RankingGroup.STREET)
    assert ranking.ranked == [] and len(ranking.rows) > 20
    assert rates_for_unit(None, Period.month(dt.date(2025, 1, 1))).composite is None


# --- RULES.md "三率 decisions" -----------------------------------------------------------------


def test_a_unit_with_too_few_demands_is_shown_apart_and_never_scores_on_one_rate(world):
    t = at(5, 10)
    # Changxindian: two perfect demands (the bug: scored 100 and ranked first)
    for _ in range(2):
        world.handle(world.new(t), CHANGXINDIAN, t, resolution="resolved", satisfaction="satisfied")
    # Fengtai: five demands contacted, none rated yet → no composite
    for _ in range(5):
        world.handle(world.new(t), FENGTAI, t)
    # Lugouqiao: five demands, all answered, middling
    for _ in range(5):
        world.handle(world.new(t), LUGOUQIAO, t, resolution="partly", satisfaction="basic")
    ranking = monthly_ranking(MARCH, RankingGroup.STREET)
    assert [(row.unit.code, row.rank) for row in ranking.ranked] == [(LUGOUQIAO, 1)]
    apart = {row.unit.code: row.rates for row in ranking.apart}
    assert set(apart) == {CHANGXINDIAN, FENGTAI}
    assert apart[CHANGXINDIAN].composite == 1 and not apart[CHANGXINDIAN].rankable
    assert apart[FENGTAI].composite is None and apart[FENGTAI].response_rate == 1


def test_a_redispatch_after_an_upheld_dispute_counts_in_the_new_units_month(world):
    demand = world.new(at(28, 15, month=2))
    world.dispatch(demand, LUGOUQIAO, at(28, 15, month=2))
    transition(
        demand,
        "dispute",
        world.officer(LUGOUQIAO),
        note="不在辖区",
        reason="wrong_place",
        now=at(28, 16, month=2),
    )
    transition(
        demand, "redispatch", world.operator, note="改派", lead_unit=world.unit(CHANGXINDIAN), now=at(3, 9)
    )
    feb = rates_for_unit(world.unit(CHANGXINDIAN), Period.month(dt.date(2025, 2, 1)))
    march = march_rates(world, CHANGXINDIAN)
    assert (feb.demands, march.demands) == (0, 1)
    assert rates_for_unit(world.unit(LUGOUQIAO), Period.month(dt.date(2025, 2, 1))).demands == 0


def test_an_uncontacted_demand_not_yet_due_is_out_of_the_response_denominator(world):
    t = at(4, 10)  # contact due Wednesday 5 March 10:00
    world.handle(world.new(t), FENGTAI, t, contact_after=None)
    period, unit = Period.month(MARCH), world.unit(FENGTAI)
    before = metrics.rates_by_unit(period, weights_for_month(MARCH), now=at(4, 12))[unit.pk]
    assert (before.demands, before.not_yet_due, before.dispatched, before.response_rate) == (1, 1, 0, None)
    after = metrics.rates_by_unit(period, weights_for_month(MARCH), now=at(5, 11))[unit.pk]
    assert (after.not_yet_due, after.dispatched, after.responded) == (0, 1, 0)


def test_a_closed_month_reads_its_snapshot_and_never_changes(world, settings):
    from changxin.demands.models import RankingSnapshot
    from changxin.insight import snapshots

    settings.CHANGXIN_RANKING_MIN_DEMANDS = 1
    t = at(4, 10)
    demand = world.handle(world.new(t), LUGOUQIAO, t, resolution="resolved", satisfaction="satisfied")
    # 31 March ends; 5 working days later (Tuesday 8 April, after 清明 on Friday 4 April) it closes
    assert snapshots.close_date(MARCH) > at(7, 0, month=4)
    assert snapshots.run(now=at(2, 9, month=4))["closed"] == 1  # February closes; March not yet
    assert not RankingSnapshot.objects.filter(month=MARCH).exists()
    assert snapshots.run(now=at(30, 9, month=4))["closed"] == 1
    assert RankingWeights.objects.filter(month=dt.date(2025, 4, 1)).exists()  # the open month's weights
    snapshot = RankingSnapshot.objects.get(month=MARCH)
    stored = monthly_ranking(MARCH, RankingGroup.STREET)
    assert stored.closed and [(r.unit.code, r.rank) for r in stored.ranked] == [(LUGOUQIAO, 1)]
    # later events do not change the closed month
    transition(demand, "reopen", world.operator, note="重办", now=at(30, 10, month=4))
    again = monthly_ranking(MARCH, RankingGroup.STREET)
    row = next(r for r in again.rows if r.unit.code == LUGOUQIAO)
    assert (row.rank, row.rates.resolution_answers, row.rates.composite) == (1, 1, 1)
    assert metrics.monthly_trend(world.unit(LUGOUQIAO), MARCH, 1)[0][1].resolution_answers == 1
    assert snapshots.run(now=at(30, 11, month=4))["closed"] == 0
    assert RankingSnapshot.objects.count() == 2 and snapshot.weights.is_closed


def test_co_unit_tasks_are_not_scored_but_their_on_time_rate_is_shown(world, client):
    from django.urls import reverse

    t = at(4, 10)
    demand = world.new(t)
    transition(
        demand,
        "dispatch",
        world.operator,
        now=t,
        lead_unit=world.unit(LUGOUQIAO),
        co_units=[world.unit(CHENGGUAN)],
    )
    task = demand.tasks.get(unit=world.unit(CHENGGUAN))
    transition(demand, "task_complete", world.officer(CHENGGUAN), task=task.pk, note="已协助", now=t + H)
    assert metrics.task_on_time_by_unit(Period.month(MARCH)) == {world.unit(CHENGGUAN).pk: (1, 1)}
    assert march_rates(world, CHENGGUAN).demands == 0  # not in 三率
    client.force_login(world.leader)
    html = client.get(reverse("insight:home"), {"month": "2025-03", "group": "department"}).content.decode()
    row = html.split(f'data-unit="{CHENGGUAN}"', 1)[1].split("</tr>", 1)[0]
    assert 'class="task-on-time"' in row and "1/1" in row

"""Acceptance: a seeded month's 三率, recomputed independently from the raw DemandEvent rows in
plain Python, equal what the ranking page shows (rendered with the test client and parsed)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from fractions import Fraction

from django.urls import reverse
from django.utils import timezone

from changxin.core.tests.builders import CHANGXINDIAN, CHENGGUAN, FENGTAI, LUGOUQIAO, WANGZUO, ZHUJIAN, at
from changxin.demands.models import Demand, DemandEvent
from changxin.demands.services import transition
from changxin.demands.workflow import WorkflowError
from changxin.insight.tests.pages import ranking_table

H = dt.timedelta(hours=1)
UNITS = [LUGOUQIAO, CHANGXINDIAN, FENGTAI, WANGZUO, CHENGGUAN, ZHUJIAN]


def seed_month(world, rng: random.Random, n: int = 48) -> None:
    """n demands dispatched at random office times of March 2025 (and a few in Feb/April), through
    the real services, with every side path the rules care about."""
    w = world
    masters: list[Demand] = []
    for i in range(n):
        if i % 12 == 11:
            day = at(28, 15, month=2) if i % 24 == 11 else at(1, 9, month=4)
        else:
            day = at(rng.randint(3, 28), rng.choice([9, 10, 11, 14, 15, 16]), rng.choice([0, 20, 40]))
        code = rng.choice(UNITS)
        demand_type = (
            "praise" if rng.random() < 0.06 else rng.choice(["complaint", "help", "report", "suggestion"])
        )
        demand = w.new(day - 10 * dt.timedelta(minutes=1), demand_type=demand_type)
        w.dispatch(demand, code, day)
        now = day
        roll = rng.random()
        if roll < 0.06 and masters:
            transition(demand, "merge", w.operator, note="重复", master=rng.choice(masters), now=now + H)
            continue
        if roll < 0.18:  # dispute
            transition(
                demand, "dispute", w.officer(code), note="非本单位", reason="not_our_duty", now=now + H
            )
            if roll < 0.13:
                code = rng.choice([u for u in UNITS if u != code])
                now = now + 2 * H
                transition(demand, "redispatch", w.operator, note="改派", lead_unit=w.unit(code), now=now)
            else:
                transition(demand, "reject_dispute", w.operator, note="驳回", now=now + 2 * H)
        officer = w.officer(code)
        demand.refresh_from_db()
        if demand.state == "dispatched":
            transition(demand, "acknowledge", officer, now=now + 0.2 * H)
        contact = rng.random()
        if contact < 0.1:
            masters.append(demand)
            continue  # never contacted
        now = now + (rng.choice([1, 3, 5]) * H if contact < 0.7 else rng.choice([26, 50, 75]) * H)
        transition(demand, "contact", officer, note="已联系", now=now)
        masters.append(demand)
        if rng.random() < 0.15:
            continue  # still being handled
        now += 5 * H
        transition(demand, "reply", officer, note="已办结", now=now)
        now += 20 * H
        if rng.random() < 0.1:
            for k in range(3):
                transition(demand, "visit_attempt", w.operator, now=now + k * H)
            continue
        satisfaction = rng.choice(["satisfied", "satisfied", "basic", "dissatisfied"])
        resolution = rng.choice(["resolved", "resolved", "partly", "unresolved"])
        transition(
            demand, "return_visit", w.operator, resolution=resolution, satisfaction=satisfaction, now=now
        )
        if satisfaction == "dissatisfied" and rng.random() < 0.4:
            transition(demand, "exclude_rating", w.operator, note="不合理诉求", now=now + H)
        elif rng.random() < 0.15:
            now += 2 * H
            transition(demand, "reopen", w.operator, note="重办", now=now)
            if rng.random() < 0.5:
                try:
                    transition(demand, "acknowledge", officer, now=now + H)
                    transition(demand, "contact", officer, note="再联系", now=now + 2 * H)
                    transition(demand, "reply", officer, note="再办结", now=now + 3 * H)
                    transition(
                        demand,
                        "return_visit",
                        w.operator,
                        resolution=rng.choice(["resolved", "partly"]),
                        satisfaction=rng.choice(["satisfied", "basic"]),
                        now=now + 20 * H,
                    )
                except WorkflowError:  # pragma: no cover - the seed is deterministic
                    raise


def recompute_from_events(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> dict[int, Counter]:
    """Walk every demand's events in order; RULES.md (with its "三率 decisions") applied by hand, no
    ORM aggregation."""
    types = dict(Demand.objects.values_list("pk", "demand_type"))
    timelines: dict[int, list[DemandEvent]] = defaultdict(list)
    for event in DemandEvent.objects.order_by("at", "id"):
        timelines[event.demand_id].append(event)
    per_unit: dict[int, Counter] = defaultdict(Counter)
    for pk, events in timelines.items():
        received_as_lead = unit = due = None
        contacted = on_time = merged = excluded = False
        resolution = satisfaction = None
        for e in events:
            if e.action in ("dispatch", "redispatch"):
                received_as_lead = e.at  # the month the (new) lead unit received it
                unit = e.data["lead_unit"]
                due = dt.datetime.fromisoformat(e.data["contact_due"])
                contacted = on_time = False
            elif e.action == "contact" and not contacted:
                contacted, on_time = True, e.at <= due
            elif e.action == "return_visit":
                resolution, satisfaction = e.data["resolution"], e.data["satisfaction"]
            elif e.action == "visit_attempt" and e.to_state == "visited":
                resolution, satisfaction = None, "unrated"
            elif e.action == "exclude_rating":
                excluded = True
            elif e.action == "reopen":
                resolution = satisfaction = None
                excluded = False
            elif e.action == "merge":
                merged = True
        if received_as_lead is None or not (start <= received_as_lead < end):
            continue
        if merged or types[pk] == "praise":
            continue
        c = per_unit[unit]
        c["demands"] += 1
        if not contacted and due > now:
            continue  # not yet due: out of the response denominator (and unanswered)
        c["dispatched"] += 1
        c["responded"] += on_time
        if resolution and not excluded:
            c["resolution_answers"] += 1
            c[resolution] += 1
        if satisfaction in ("satisfied", "basic", "dissatisfied") and not excluded:
            c["satisfaction_answers"] += 1
            c[satisfaction] += 1
    return per_unit


def rates(c: Counter) -> dict[str, Fraction | None]:
    partly, basic = Fraction(1, 2), Fraction(4, 5)  # the settings' defaults, frozen for the month
    weights = {
        "response": Fraction(1, 10),
        "resolution": Fraction(45, 100),
        "satisfaction": Fraction(45, 100),
    }
    result = {
        "response": Fraction(c["responded"], c["dispatched"]) if c["dispatched"] else None,
        "resolution": (c["resolved"] + partly * c["partly"]) / c["resolution_answers"]
        if c["resolution_answers"]
        else None,
        "satisfaction": (c["satisfied"] + basic * c["basic"]) / c["satisfaction_answers"]
        if c["satisfaction_answers"]
        else None,
    }
    complete = all(v is not None for v in result.values())  # never rescaled over the rates that exist
    result["composite"] = sum(weights[k] * v for k, v in result.items()) if complete else None
    return result


def rankable(c: Counter) -> bool:
    return c["demands"] >= 5 and c["resolution_answers"] > 0 and c["satisfaction_answers"] > 0


def pct(value: Fraction | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.2f}%"


def num(value: Fraction) -> str:
    return str(int(value)) if value.denominator == 1 else f"{float(value):.2f}".rstrip("0")


def test_ranking_page_equals_independent_recomputation_from_events(client, world):
    seed_month(world, random.Random(20250301))
    start, end = at(1, 0), at(1, 0, month=4)
    expected = recompute_from_events(start, end, timezone.now())
    assert sum(c["dispatched"] for c in expected.values()) > 25  # the seed really exercised the month
    assert any(c["partly"] for c in expected.values()) and any(c["basic"] for c in expected.values())

    client.force_login(world.leader)
    shown = {}
    for group in ("street", "town", "department"):
        html = client.get(reverse("insight:home"), {"month": "2025-03", "group": group}).content.decode()
        shown.update(ranking_table(html))

    by_pk = {u.pk: code for code, u in world.units.items()}
    for code in UNITS:
        unit_pk = world.unit(code).pk
        c = expected.get(unit_pk, Counter())
        r = rates(c)
        row = shown[code]
        assert row["dispatched"] == str(c["dispatched"]), code
        assert row["response-numerator"] == str(c["responded"]), code
        assert row["resolution-denominator"] == str(c["resolution_answers"]), code
        assert row["satisfaction-denominator"] == str(c["satisfaction_answers"]), code
        assert row["resolution-numerator"] == num(c["resolved"] + Fraction(1, 2) * c["partly"]), code
        assert row["satisfaction-numerator"] == num(c["satisfied"] + Fraction(4, 5) * c["basic"]), code
        assert row["response-rate"] == pct(r["response"]), code
        assert row["resolution-rate"] == pct(r["resolution"]), code
        assert row["satisfaction-rate"] == pct(r["satisfaction"]), code
        assert row["composite"] == pct(r["composite"]).rstrip("%"), code
    # every unit the events give demands to is shown, and none other has any
    assert {by_pk[pk] for pk in expected} <= set(UNITS)
    for code, row in shown.items():
        if code not in UNITS:
            assert row["dispatched"] == "0"
    # ranks follow the independent composites within each group
    # only units with enough to rank are ranked; ranks follow the independent composites in a group
    for code in UNITS:
        c = expected.get(world.unit(code).pk, Counter())
        assert (shown[code]["rank"] != "—") == rankable(c), code
    streets = sorted(
        (
            u
            for u in (LUGOUQIAO, CHANGXINDIAN, FENGTAI)
            if rankable(expected.get(world.unit(u).pk, Counter()))
        ),
        key=lambda u: -rates(expected[world.unit(u).pk])["composite"],
    )
    assert len(streets) >= 2  # the seed ranks at least two streets
    ranks = [int(shown[u]["rank"]) for u in streets]
    assert ranks == sorted(ranks)

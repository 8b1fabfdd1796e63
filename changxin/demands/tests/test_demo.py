"""Demo demands: every state appears, the demo logins have work, the timelines are real, idempotent."""

from __future__ import annotations

import io
import re
import time

from django.apps import apps
from django.db.models import Count
from django.utils import timezone

from changxin.core.tests.builders import purge_demands
from changxin.demands.demo import DEMO_OFFICERS, DEMO_PREFIX, load_demo
from changxin.demands.models import Demand, DemandEvent, DemandTask, State
from changxin.demands.selectors import tasks_for_unit_staff


def test_demo_demands(demo_world):
    out = io.StringIO()
    started = time.perf_counter()
    created = load_demo(out)
    elapsed = time.perf_counter() - started
    print(f"demo demands: {created} in {elapsed:.1f}s")  # shown with pytest -s
    assert created == Demand.objects.count() >= 300
    assert "0 skipped" in out.getvalue(), out.getvalue()

    # every state of the workflow appears
    states = dict(Demand.objects.values_list("state").annotate(n=Count("id")))
    assert set(states) == set(State.values), states

    # the timelines are the engine's own events, backdated, never in the future
    now = timezone.now()
    assert not DemandEvent.objects.filter(at__gt=now).exists()
    actions = set(DemandEvent.objects.values_list("action", flat=True))
    for action in [
        "receive", "dispatch", "acknowledge", "contact", "start", "reply", "return_visit", "archive",
        "dispute", "redispatch", "reject_dispute", "request_extension", "approve_extension", "whistle",
        "task_complete", "merge", "answer", "visit_attempt", "exclude_rating", "reopen", "supervise",
    ]:  # fmt: skip
        assert action in actions, action
    oldest = Demand.objects.order_by("received_at").first().received_at
    assert (now - oldest).days >= 90
    for demand in Demand.objects.exclude(state=State.RECEIVED)[:50]:
        times = list(demand.events.values_list("at", flat=True))
        assert times == sorted(times) and times[0] == demand.received_at

    # a realistic mix of return-visit answers, late contacts and overdue supervision
    visited = Demand.objects.filter(state__in=[State.VISITED, State.ARCHIVED])
    assert {"resolved", "partly", "unresolved"} <= set(visited.values_list("resolution", flat=True))
    assert {"satisfied", "basic", "dissatisfied", "unrated"} <= set(
        visited.values_list("satisfaction", flat=True)
    )
    assert DemandEvent.objects.filter(action="contact", data__on_time=False).exists()
    assert DemandEvent.objects.filter(action="supervise", automatic=True).exists()
    assert Demand.objects.filter(
        supervision_count__gt=0, state__in=[State.CONTACTED, State.IN_PROGRESS]
    ).exists()

    # the demo logins find work: officers in their workbench, the dispatcher demands to dispatch and visit
    for code, username in DEMO_OFFICERS.items():
        user = demo_world[username]
        assert user.unit.code == code
        assert tasks_for_unit_staff(user).count() >= 3, username
    assert Demand.objects.filter(state=State.RECEIVED).count() >= 3
    assert Demand.objects.filter(state=State.REPLIED).count() >= 3
    assert Demand.objects.filter(state=State.DISPUTED).exists()
    assert DemandTask.objects.filter(role="whistle", state="pending").exists()

    # realistic, obviously fake requesters; real divisions
    phones = set(Demand.objects.values_list("requester_phone", flat=True))
    assert all(re.fullmatch(r"1390000\d{4}", p) for p in phones)
    assert Demand.objects.filter(street__isnull=True).count() == 0
    assert Demand.objects.values("street").distinct().count() >= 20
    assert all(d.external_id.startswith(DEMO_PREFIX) for d in Demand.objects.all())

    # idempotent: the app hook that `changxin demo` calls adds nothing the second time
    events = DemandEvent.objects.count()
    out = io.StringIO()
    apps.get_app_config("demands").load_demo(out)
    assert "already loaded" in out.getvalue()
    assert Demand.objects.count() == created and DemandEvent.objects.count() == events


def test_demo_is_deterministic(demo_world):
    now = timezone.now()
    load_demo(None, count=40, now=now)
    first = list(
        Demand.objects.order_by("external_id").values_list("external_id", "title", "state", "street")
    )
    purge_demands()
    load_demo(None, count=40, now=now)
    second = list(
        Demand.objects.order_by("external_id").values_list("external_id", "title", "state", "street")
    )
    assert first == second


def test_demo_data_files_are_consistent(demo_world):
    """The editable data files (data/demo/) refer to real categories, units, templates and stages."""
    from changxin.core.demodata import demo_data
    from changxin.core.models import OrgUnit
    from changxin.demands.demo import PLAN_WEIGHTS, STAGES, load_templates
    from changxin.demands.models import Category, DemandType, Urgency

    templates = load_templates()
    keys = [t.key for t in templates]
    assert len(keys) == len(set(keys)) >= 10
    paths = {c.full_name.replace(" / ", "/") for c in Category.objects.filter(level=3)}
    codes = set(OrgUnit.objects.values_list("code", flat=True))
    for template in templates:
        assert template.category in paths, template.key
        assert set(template.routes) - {"street"} <= codes, template.key
        assert set(template.whistle_to) <= codes, template.key
        assert template.demand_type in DemandType.values and template.urgency in Urgency.values
        assert template.titles and template.replies and template.weight > 0
        for content in template.contents:
            assert content.format(place="X")  # only the {place} placeholder
    featured = demo_data("demands", "featured.csv")
    assert featured and all(
        row["template"] in keys and row["lead_unit"] in codes and row["stage"] in (*STAGES, "overdue")
        for row in featured
    )
    # the demo officer's street has an overdue demand whatever the hour: their inbox shows a deadline notice
    assert {"lead_unit": "110106017", "template": "heating", "stage": "overdue"} in featured
    assert set(PLAN_WEIGHTS) - set(STAGES) == {"disputed", "merged", "answered", "overdue"}
    names, texts = demo_data("demands", "names.json"), demo_data("demands", "texts.json")
    assert len(names["surnames"]) > 50 and names["given"] and names["titles"]
    assert set(texts["dispute"]) == {"not_our_duty", "wrong_place"}

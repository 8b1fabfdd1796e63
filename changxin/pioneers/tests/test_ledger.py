"""先锋者上: entries written by the subscriber to the demand timeline, exactly once (also through
catch-up), each naming its source; totals recomputed, never typed; audit-points."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from changxin.core import events
from changxin.core.models import Role
from changxin.core.tests.builders import (
    LUGOUQIAO,
    demand_in_state,
    make_user,
    party_member,
    party_organisation,
    unit,
)
from changxin.demands.models import DemandEvent
from changxin.demands.services import transition
from changxin.pioneers import ledger, services
from changxin.pioneers.models import PointEntry, PointTotal

pytestmark = pytest.mark.django_db


@pytest.fixture
def branch(demo_world):
    return party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")


def handled_demand(demo_world):
    return demand_in_state(
        "visited", operator=demo_world["dispatcher"], officer=demo_world["lugouqiao"], street_code=LUGOUQIAO
    )


def year_now():
    from django.utils import timezone

    return timezone.localdate().year


def test_a_member_is_credited_once_for_a_demand_they_handled(branch, demo_world):
    member = party_member(branch, "李强", user=demo_world["lugouqiao"])
    demand = handled_demand(demo_world)
    assert events.catch_up()["pioneers.points"] == 2
    entries = list(PointEntry.objects.filter(member=member).order_by("source_event_id"))
    reply = DemandEvent.objects.get(demand=demand, action="reply")
    visit = DemandEvent.objects.get(demand=demand, action="return_visit")
    assert [(e.rule.code, e.points, e.source_stream, e.source_event_id, e.demand_id) for e in entries] == [
        ("reply_on_time", Decimal(2), "demands", reply.pk, demand.pk),
        ("visit_satisfied", Decimal(3), "demands", visit.pk, demand.pk),
    ]
    # delivered again (a retry, a second catch-up, a direct delivery): nothing twice
    assert events.catch_up()["pioneers.points"] == 0
    assert events.deliver("demands", reply.pk) == 0
    assert ledger.credit_from_demand_event(reply) == 0
    assert PointEntry.objects.filter(member=member).count() == 2
    assert PointTotal.objects.get(member=member, year=year_now()).total == Decimal(5)


def test_history_counts_for_a_member_linked_after_the_events_were_delivered(branch, demo_world):
    handled_demand(demo_world)
    events.catch_up()  # delivered while nobody was linked: no entries
    assert not PointEntry.objects.exists()
    member = party_member(branch, "李强")
    services.link_account(member, demo_world["lugouqiao"])
    assert PointEntry.objects.filter(member=member).count() == 2
    events.catch_up()
    assert PointEntry.objects.filter(member=member).count() == 2


def test_the_assignee_who_handled_it_is_credited_not_the_unit(branch, demo_world):
    lead = demo_world["lugouqiao_lead"]
    officer_member = party_member(branch, "李强", user=demo_world["lugouqiao"])
    lead_member = party_member(branch, "周婷", user=lead)
    demand = demand_in_state(
        "dispatched",
        operator=demo_world["dispatcher"],
        officer=demo_world["lugouqiao"],
        street_code=LUGOUQIAO,
    )
    transition(demand, "assign", demo_world["lugouqiao"], assignee=lead.pk)
    for step, kwargs in (
        ("acknowledge", {}),
        ("contact", {"note": "已联系"}),
        ("start", {}),
        ("reply", {"note": "已解决"}),
    ):
        transition(demand, step, lead, **kwargs)
    events.catch_up()
    assert PointEntry.objects.filter(member=lead_member).count() == 1
    assert not PointEntry.objects.filter(member=officer_member).exists()


def audit(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("pioneers", "audit-points", *args, stdout=out, stderr=err)
        return 0, out.getvalue().splitlines()[-1]
    except CommandError as exc:
        return exc.returncode, out.getvalue().splitlines()[-1]


def test_audit_points_recomputes_from_the_sources(branch, demo_world):
    member = party_member(branch, "李强", user=demo_world["lugouqiao"])
    handled_demand(demo_world)
    events.catch_up()
    assert audit() == (0, "members 1, entries 2, from demands 2, mismatches 0")
    assert audit("--year", str(year_now() - 1)) == (0, "members 0, entries 0, from demands 0, mismatches 0")

    PointTotal.objects.filter(member=member).update(total=Decimal(50))  # typed by hand
    assert audit() == (1, "members 1, entries 2, from demands 2, mismatches 1")
    ledger.recompute_total(member, year_now())
    assert audit()[0] == 0

    entry = PointEntry.objects.filter(member=member).first()
    PointEntry.objects.filter(pk=entry.pk).update(points=Decimal(9))  # does not follow from its event
    ledger.recompute_total(member, year_now())
    assert audit() == (1, "members 1, entries 2, from demands 2, mismatches 1")


def test_an_entry_without_a_source_fails_the_audit(branch, demo_world):
    from django.utils import timezone

    member = party_member(branch, "李强")
    PointEntry.objects.create(
        member=member,
        kind="service",
        points=5,
        at=timezone.now(),
        year=year_now(),
        source_stream="",
        source_event_id=0,
    )
    ledger.recompute_total(member, year_now())
    assert audit() == (1, "members 1, entries 1, from demands 0, mismatches 1")


def test_a_manual_adjustment_needs_a_reason_and_another_approver(branch, demo_world):
    member = party_member(branch, "李强")
    staff = demo_world["party"]
    with pytest.raises(Exception) as caught:
        services.request_adjustment(member, points=3, kind="reform", reason=" ", actor=staff)
    assert caught.value.code == "reason_required"
    adjustment = services.request_adjustment(
        member, points=3, kind="reform", reason="牵头社区改革", actor=staff
    )
    assert not PointEntry.objects.exists()  # requested: not counted yet
    with pytest.raises(Exception) as caught:
        services.decide_adjustment(adjustment, approve=True, actor=staff)
    assert caught.value.code == "four_eyes"
    with pytest.raises(Exception) as caught:  # an officer is not party staff
        services.decide_adjustment(adjustment, approve=True, actor=demo_world["lugouqiao"])
    assert caught.value.code == "not_allowed"
    approver = make_user("lgq_party", Role.PARTY_STAFF, unit(LUGOUQIAO))
    services.decide_adjustment(adjustment, approve=True, actor=approver)
    entry = PointEntry.objects.get(member=member)
    assert (entry.source_stream, entry.source_event_id, entry.points) == ("adjustments", adjustment.pk, 3)
    assert PointTotal.objects.get(member=member).total == 3
    assert audit() == (0, "members 1, entries 1, from demands 0, mismatches 0")

import pytest

from changxin.core.demodata import demo_data
from changxin.core.models import OrgUnit
from changxin.demands.models import State
from changxin.port import demo, uscc
from changxin.port.models import Enterprise, EnterpriseDemand, Visit, Zone

pytestmark = pytest.mark.django_db


def test_demo_files_are_consistent(demo_world):
    rows = demo_data("port", "enterprises.csv")
    assert all(uscc.is_valid(r["credit_code"]) for r in rows)
    assert {r["zone"] for r in rows} == set(Zone.values)  # every zone of the 4+4
    assert all(OrgUnit.objects.filter(code=r["street"]).exists() for r in rows)
    assert {r["manager"] for r in rows} <= {"", "manager"}


def test_demo_builds_through_the_services(demo_world):
    demo.load_demo()
    assert Enterprise.objects.count() == len(demo_data("port", "enterprises.csv"))
    first = Enterprise.objects.get(members=demo_world["enterprise"])
    assert Enterprise.objects.filter(manager=demo_world["manager"]).count() >= 4
    states = set(EnterpriseDemand.objects.filter(enterprise=first).values_list("demand__state", flat=True))
    assert {State.VISITED, State.REPLIED, State.IN_PROGRESS, State.DISPATCHED} <= states
    assert Visit.objects.exists() and EnterpriseDemand.objects.filter(visit__isnull=False).exists()
    from changxin.port.models import Project, Stage

    assert set(Project.objects.values_list("stage", flat=True)) == set(Stage.values)  # every stage
    demo.load_demo()  # a second run adds nothing
    assert Enterprise.objects.count() == len(demo_data("port", "enterprises.csv"))
    assert EnterpriseDemand.objects.filter(enterprise=first, visit__isnull=True).count() == 4
    assert Project.objects.count() == len(demo_data("port", "projects.json"))


def test_demo_cooperation_suggestions_policies(demo_world):
    from changxin.port.models import GrantState, Match, MatchState, Policy, PolicyGrant, Scenario, Suggestion

    data = demo_data("port", "cooperation.json")
    assert all(OrgUnit.objects.filter(code=s["owner_unit"]).exists() for s in data["scenarios"])
    demo.load_demo()
    assert Scenario.objects.count() == len(data["scenarios"])
    states = set(Match.objects.values_list("state", flat=True))
    assert {MatchState.PROPOSED, MatchState.SENT, MatchState.CONNECTED} <= states
    assert Match.objects.filter(scenario__isnull=False).exists()
    assert set(Suggestion.objects.values_list("state", flat=True)) == {
        "submitted",
        "assigned",
        "responded",
        "closed",
    }
    assert Policy.objects.count() == len(data["policies"])
    grant_states = set(PolicyGrant.objects.values_list("state", flat=True))
    assert {GrantState.NOTIFIED, GrantState.GRANTED, GrantState.PAID} <= grant_states
    thresholds = Policy.objects.get(min_employees__isnull=False)  # 规模以上企业稳岗奖励
    matched = set(thresholds.grants.values_list("enterprise__name", flat=True))
    expected = {
        e.name
        for e in Enterprise.objects.all()
        if e.employees is not None
        and e.employees >= thresholds.min_employees
        and e.annual_revenue is not None
        and e.annual_revenue >= thresholds.min_revenue
    }
    assert matched == expected and matched and Enterprise.objects.filter(employees__isnull=True).exists()
    demo.load_demo()
    assert Scenario.objects.count() == len(data["scenarios"])


def test_demo_inspections_in_every_state_and_refused(demo_world):
    from changxin.port.models import Inspection, InspectionState

    demo.load_demo()
    states = set(Inspection.objects.values_list("state", flat=True))
    assert {
        InspectionState.CLOSED,
        InspectionState.RECTIFYING,
        InspectionState.REGISTERED,
        InspectionState.REFUSED,
    } <= states
    rules = set(Inspection.objects.exclude(refused_rule="").values_list("refused_rule", flat=True))
    assert rules == {"frequency_cap", "plan_or_trigger"}
    assert Inspection.objects.filter(joint__isnull=False).count() == 2
    assert Inspection.objects.filter(rating__isnull=False).exists()

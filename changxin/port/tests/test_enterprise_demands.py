import pytest
from django.core.exceptions import PermissionDenied

from changxin.core.models import AuditEntry
from changxin.demands import selectors as demand_selectors
from changxin.demands import services as demand_services
from changxin.demands.models import Channel, RequesterKind, State, TaskRole
from changxin.demands.workflow import LEAD, MACHINE, SYSTEM
from changxin.port import selectors, services
from changxin.port.models import EnterpriseDemand, EnterpriseEvent

pytestmark = pytest.mark.django_db

NEED = {
    "demand_type": "help",
    "title": "园区停车位紧张",
    "content": "园区停车位不足，希望协调周边共享停车资源。",
}


def file(world, user="enterprise", enterprise="ours"):
    demand, created = services.file_enterprise_demand(world[enterprise], NEED, actor=world[user])
    assert created
    return demand


def test_system_may_assign_in_the_table():
    assert MACHINE.check_table("assign", State.DISPATCHED, {SYSTEM})
    assert MACHINE.check_table("assign", State.DISPATCHED, {LEAD})


def test_filed_demand_is_an_engine_demand_dispatched_to_the_street_and_assigned_to_the_manager(port_world):
    demand = file(port_world)
    assert demand.channel == Channel.ENTERPRISE_PORTAL
    assert demand.requester_kind == RequesterKind.ENTERPRISE
    assert demand.enterprise_name == port_world["ours"].name
    assert demand.requester_user == port_world["enterprise"]
    assert demand.state == State.DISPATCHED
    assert demand.lead_unit == port_world["ours"].street
    assert demand.finish_due is not None and demand.contact_due is not None  # the engine's deadlines
    lead = demand.tasks.get(role=TaskRole.LEAD)
    assert lead.assignee == port_world["manager"]
    assert EnterpriseDemand.objects.get(demand=demand).enterprise == port_world["ours"]
    actions = [e.action for e in demand.events.order_by("id")]
    assert actions == ["receive", "dispatch", "assign"]
    assert EnterpriseEvent.objects.filter(enterprise=port_world["ours"], action="demand_filed").exists()
    assert AuditEntry.objects.filter(object_id=str(demand.pk)).exists()


def test_the_manager_handles_it_and_the_filer_rates_it(port_world, handle):
    demand = file(port_world)
    manager = port_world["manager"]
    offered = {t.name for t in demand_services.available_actions(manager, demand)}
    assert "acknowledge" in offered
    handle(demand, manager)
    assert demand.state == State.REPLIED
    # a colleague of the same enterprise sees it but the filer rates (REQUESTER)
    assert not demand_services.may(port_world["enterprise2"], demand, "return_visit")
    assert demand_services.may(port_world["enterprise"], demand, "return_visit")
    demand_services.transition(
        demand, "return_visit", port_world["enterprise"], resolution="resolved", satisfaction="satisfied"
    )
    demand.refresh_from_db()
    assert demand.state == State.VISITED and demand.satisfaction == "satisfied"


def test_scope_of_enterprise_demands(port_world):
    demand = file(port_world)
    visible = lambda user: demand_selectors.demands_visible_to(port_world[user]).filter(pk=demand.pk).exists()  # noqa: E731
    assert visible("enterprise2")  # the enterprise's other account: all its demands, not only its own
    assert visible("manager")
    assert visible("lugouqiao")  # the street it was dispatched to
    assert not visible("enterprise3")
    assert not visible("citizen")
    assert not visible("changxindian")
    links = selectors.demand_links(port_world["enterprise3"])
    assert not links.exists()


def test_manager_sees_demands_of_managed_enterprises_even_when_assigned_to_nobody(port_world):
    demand = file(port_world)
    demand_services.transition(demand, "assign", port_world["lugouqiao"], assignee=port_world["lugouqiao"])
    assert demand_selectors.demands_visible_to(port_world["manager"]).filter(pk=demand.pk).exists()


def test_only_members_file(port_world):
    with pytest.raises(PermissionDenied):
        file(port_world, user="enterprise3")
    with pytest.raises(PermissionDenied):
        file(port_world, user="manager")


def test_without_a_manager_the_street_handles_it(port_world):
    demand = file(port_world, user="enterprise3", enterprise="theirs")
    assert demand.state == State.DISPATCHED
    assert demand.tasks.get(role=TaskRole.LEAD).assignee is None
    assert demand_services.may(port_world["changxindian"], demand, "acknowledge")


def test_repeated_token_files_once(port_world):
    first, created = services.file_enterprise_demand(
        port_world["ours"], NEED, actor=port_world["enterprise"], token="t1"
    )
    again, created_again = services.file_enterprise_demand(
        port_world["ours"], NEED, actor=port_world["enterprise"], token="t1"
    )
    assert created and not created_again and first.pk == again.pk
    assert EnterpriseDemand.objects.count() == 1


def test_enterprise_scope(port_world):
    def sees(user, name):
        return selectors.enterprises_visible_to(port_world[user]).filter(pk=port_world[name].pk).exists()

    assert sees("enterprise", "ours") and not sees("enterprise", "theirs")
    assert sees("enterprise3", "theirs") and not sees("enterprise3", "ours")
    assert sees("manager", "ours") and not sees("manager", "theirs")
    assert sees("lugouqiao", "ours") and not sees("lugouqiao", "theirs")  # the street's unit
    assert sees("dispatcher", "theirs") and sees("leader", "ours")
    assert not sees("citizen", "ours")


def test_ranking_per_manager_and_unit(port_world, handle):
    manager = port_world["manager"]
    for _ in range(2):
        demand = handle(file(port_world), manager)
    demand_services.transition(
        demand, "return_visit", port_world["enterprise"], resolution="resolved", satisfaction="dissatisfied"
    )
    file(port_world, user="enterprise3", enterprise="theirs")
    rows = selectors.enterprise_demand_ranking(port_world["dispatcher"], by="manager")
    assert [
        (r["name"], r["total"], r["done"], r["on_time"], r["rated"], r["satisfaction_rate"]) for r in rows
    ] == [(manager.full_name, 2, 2, 2, 1, 0.0)]
    units = {
        r["name"]: r["total"]
        for r in selectors.enterprise_demand_ranking(port_world["dispatcher"], by="unit")
    }
    assert units == {"卢沟桥街道": 2, "长辛店街道": 1}
    # scoped: the manager sees only the demands of their own enterprises
    assert sum(r["total"] for r in selectors.enterprise_demand_ranking(manager, by="unit")) == 2

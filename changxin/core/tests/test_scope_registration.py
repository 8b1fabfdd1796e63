"""Scope registration: child models scoped `through` their demand; other apps `extend` a scope."""

import pytest
from django.core.files.base import ContentFile
from django.db.models import Q

from changxin.core import scope
from changxin.core.models import Role, User
from changxin.core.scope import restrict
from changxin.core.tests.builders import build_world, local
from changxin.demands.models import (
    LIVE_TASK_STATES,
    Demand,
    DemandAttachment,
    DemandEvent,
    DemandTask,
    TaskRole,
    TaskState,
)
from changxin.open311.models import RequestToken

# What DemandEvent and DemandAttachment declared by hand before `through` (open311's copy had
# drifted: it lacked the live-task condition, so a unit whose task was withdrawn kept the token).
HAND_WRITTEN_UNIT_FIELDS = (
    "demand__lead_unit",
    ("demand__tasks__unit", {"demand__tasks__state__in": LIVE_TASK_STATES}),
)
HAND_WRITTEN_OWNER_FIELDS = (
    "demand__requester_user",
    ("demand__tasks__assignee", {"demand__tasks__state__in": LIVE_TASK_STATES}),
)


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the attachment's file
    return build_world(calendar_years=(2026,))


@pytest.mark.parametrize("model", [DemandEvent, DemandAttachment, RequestToken])
def test_child_scopes_are_the_demands_prefixed(model):
    assert model.Scope.unit_fields == HAND_WRITTEN_UNIT_FIELDS
    assert model.Scope.owner_fields == HAND_WRITTEN_OWNER_FIELDS
    assert model.Scope.district_roles is None


def test_a_task_is_also_seen_by_its_own_unit():
    assert DemandTask.Scope.unit_fields == (*HAND_WRITTEN_UNIT_FIELDS, "unit")


def _world_demand(world):
    """Led by 卢沟桥; the department's task was withdrawn, department 2's is live."""
    demand = world.demand(received_at=local(2026, 3, 2, 9, 0))
    Demand.objects.filter(pk=demand.pk).update(lead_unit=world.lugouqiao)
    at = local(2026, 3, 2, 10, 0)
    DemandTask.objects.create(
        demand=demand, unit=world.department, role=TaskRole.CO, state=TaskState.WITHDRAWN, assigned_at=at
    )
    DemandTask.objects.create(
        demand=demand, unit=world.department2, role=TaskRole.CO, state=TaskState.ACKNOWLEDGED, assigned_at=at
    )
    DemandAttachment.objects.create(
        demand=demand,
        file=ContentFile(b"x", name="a.txt"),
        original_name="a.txt",
        content_type="text/plain",
        size=1,
    )
    RequestToken.objects.create(demand=demand)
    return demand


def _sees(user, demand) -> dict[str, bool]:
    return {
        "demand": restrict(Demand.objects.filter(pk=demand.pk), user).exists(),
        "events": restrict(DemandEvent.objects.filter(demand=demand), user).exists(),
        "attachments": restrict(DemandAttachment.objects.filter(demand=demand), user).exists(),
        "token": restrict(RequestToken.objects.filter(demand=demand), user).exists(),
    }


def test_children_are_seen_exactly_when_the_demand_is(world):
    demand = _world_demand(world)
    assert set(_sees(world.officer_lgq, demand).values()) == {True}  # lead unit
    assert set(_sees(world.officer_dept2, demand).values()) == {True}  # live co-unit task
    assert set(_sees(world.officer_dept, demand).values()) == {False}  # withdrawn: token too now
    assert set(_sees(world.officer_cxd, demand).values()) == {False}
    assert set(_sees(world.leadership, demand).values()) == {True}


def test_withdrawn_task_stays_visible_to_its_own_unit(world):
    demand = _world_demand(world)
    tasks = restrict(DemandTask.objects.filter(demand=demand), world.officer_dept)
    assert list(tasks.values_list("unit", flat=True)) == [world.department.pk]


def test_a_rule_extension_widens_for_its_user_only_and_is_removed(world):
    demand = _world_demand(world)
    neighbour = User.objects.create_user("neighbour", password="pw", role=Role.ENTERPRISE)
    rule = lambda user: Q(requester_phone=demand.requester_phone) if user.pk == neighbour.pk else None  # noqa: E731
    assert set(_sees(neighbour, demand).values()) == {False}
    with scope.extend(Demand, rule=rule):
        assert set(_sees(neighbour, demand).values()) == {True}  # the children follow the demand
        assert set(_sees(world.citizen, demand).values()) == {False}
        assert set(_sees(world.officer_cxd, demand).values()) == {False}
    assert set(_sees(neighbour, demand).values()) == {False}


def test_a_field_extension_widens_for_the_units_it_names(world):
    demand = _world_demand(world)  # located in 卢沟桥 (street), led by 卢沟桥
    Demand.objects.filter(pk=demand.pk).update(lead_unit=world.department)
    assert not _sees(world.officer_lgq, demand)["demand"]
    extension = scope.extend(Demand, unit_fields=("street",))
    try:
        assert set(_sees(world.officer_lgq, demand).values()) == {True}
        assert set(_sees(world.officer_cxd, demand).values()) == {False}
    finally:
        extension.remove()
    assert not _sees(world.officer_lgq, demand)["demand"]
    extension.remove()  # removing twice is harmless


def test_restrict_lists_a_row_once_through_a_plain_many_to_many_owner_path(db):
    """A scope path straight through a many-to-many ("members") is to-many like "tasks__unit":
    restrict filters by a subquery, so a row with several matching owners is listed once."""
    from changxin.core.scope import _crosses_to_many
    from changxin.demands.models import Demand, DemandEvent
    from changxin.port.models import Enterprise

    assert _crosses_to_many(Enterprise, "members") and _crosses_to_many(Demand, "tasks__unit")
    assert not _crosses_to_many(DemandEvent, "demand__lead_unit")  # forward keys only: a plain join
    assert not _crosses_to_many(Demand, "requester_user")

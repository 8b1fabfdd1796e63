import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation

from changxin.core.models import AuditEntry
from changxin.core.tests.builders import LUGOUQIAO, unit
from changxin.core.workflow import WorkflowError
from changxin.port import selectors, services
from changxin.port.models import Project, ProjectEvent, Stage
from changxin.port.workflow import CENTRE, MANAGER, PROJECT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def new_project(world, **extra):
    data = {
        "name": "丽泽数字金融产业园",
        "zone": "lize",
        "street": unit(LUGOUQIAO),
        "amount": Decimal("50000"),
        "manager": world["manager"],
        "enterprise": world["ours"],
        **extra,
    }
    return services.register_project(data, actor=world["dispatcher"])


def test_table_every_target_reachable_from_every_other_stage_by_manager_and_centre():
    for target in Stage.values:
        step = PROJECT.get(f"to_{target}")
        assert set(step.sources) == set(Stage.values) - {target}
        assert step.actors == {MANAGER, CENTRE}


def test_next_stage_needs_no_reason_and_sets_its_date(port_world):
    project = new_project(port_world)
    assert [t.name for t in services.project_actions(port_world["manager"], project)] == ["to_talks"]
    for name in ("to_talks", "to_signed", "to_started", "to_completed"):
        services.move_project(project, name, port_world["manager"])
    project.refresh_from_db()
    today = timezone.localdate()
    assert project.stage == Stage.COMPLETED
    assert project.signed_on == project.started_on == project.completed_on == today
    history = list(ProjectEvent.objects.filter(project=project).values_list("action", "data__kind"))
    assert history == [
        ("register", None),
        ("to_talks", "next"),
        ("to_signed", "next"),
        ("to_started", "next"),
        ("to_completed", "next"),
    ]
    assert AuditEntry.objects.filter(object_id=str(project.pk), action="state").count() == 4


def test_skip_or_back_without_a_reason_is_refused_naming_the_rule(port_world):
    project = new_project(port_world)
    with pytest.raises(WorkflowError) as err:
        services.move_project(project, "to_signed", port_world["manager"])
    assert err.value.code == "reason_required" and "skipped or moved back" in str(err.value.message)
    project.refresh_from_db()
    assert project.stage == Stage.RESERVE and project.events.count() == 1
    services.move_project(
        project, "to_started", port_world["manager"], note="已直接签约开工（招商引资绿色通道）"
    )
    project.refresh_from_db()
    assert project.stage == Stage.STARTED and project.started_on is not None
    with pytest.raises(WorkflowError):
        services.move_project(project, "to_talks", port_world["manager"], note="  ")
    services.move_project(project, "to_talks", port_world["manager"], note="投资方调整方案，重新洽谈")
    project.refresh_from_db()
    assert project.stage == Stage.TALKS and project.started_on is None  # moved back: not started any more
    assert list(project.events.values_list("data__kind", flat=True))[1:] == ["skip", "back"]


def test_who_may_move(port_world):
    project = new_project(port_world)
    for name in ("leader", "lugouqiao", "enterprise"):
        with pytest.raises(WorkflowError) as err:
            services.move_project(project, "to_talks", port_world[name])
        assert err.value.code == "not_allowed"
    services.move_project(project, "to_talks", port_world["dispatcher"])
    with pytest.raises(PermissionDenied):
        services.register_project(
            {"name": "x", "zone": "lize", "street": unit(LUGOUQIAO), "amount": 1},
            actor=port_world["enterprise"],
        )


def test_board_and_batch_counts_per_zone_and_year(port_world):
    a = new_project(port_world)
    b = new_project(port_world, name="南中轴文化街区", zone="south_axis")
    services.move_project(b, "to_started", port_world["manager"], note="续建项目")
    year = timezone.localdate().year
    counts = {
        r["zone"]: (r["reserved"], r["started"], r["completed"])
        for r in selectors.batch_counts(port_world["leader"], year)
    }
    assert counts["lize"] == (1, 0, 0) and counts["south_axis"] == (1, 1, 0) and counts["hexi"] == (0, 0, 0)
    assert all(
        v == (0, 0, 0)
        for v in {
            r["zone"]: (r["reserved"], r["started"], r["completed"])
            for r in selectors.batch_counts(port_world["leader"], year - 1)
        }.values()
    )
    board = {
        c["stage"]: [p.pk for p in c["projects"]]
        for c in selectors.project_board(port_world["leader"], "lize")
    }
    assert board["reserve"] == [a.pk] and board["started"] == []
    # scoped: an enterprise account sees the projects of its own enterprise only
    other = services.register_project(
        {"name": "长辛店项目", "zone": "hexi", "street": unit("110106011"), "amount": 10},
        actor=port_world["dispatcher"],
    )
    mine = set(selectors.projects_visible_to(port_world["enterprise"]).values_list("pk", flat=True))
    assert {a.pk, b.pk} <= mine and other.pk not in mine


def test_project_page_moves_and_shows_the_refusal(client, port_world):
    project = new_project(port_world)
    client.force_login(port_world["manager"])
    url = reverse("port:project", args=[project.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'id="move-form"' in page.content.decode()
    refused = client.post(url, {"action": "to_completed", "note": "", "version": project.version})
    assert (
        refused.status_code == 400 and "跳过阶段或退回阶段须说明理由" in refused.content.decode()
    )  # the rule, named
    moved = client.post(url, {"action": "to_talks", "note": "", "version": project.version})
    assert moved.status_code == 302
    project.refresh_from_db()
    assert project.stage == Stage.TALKS
    stale = client.post(url, {"action": "to_signed", "version": 0})
    assert stale.status_code == 400
    client.force_login(port_world["leader"])
    assert 'id="move-form"' not in client.get(url).content.decode()
    assert client.post(url, {"action": "to_signed"}).status_code == 403
    board = client.get(reverse("port:projects"), {"zone": "lize"})
    assert board.status_code == 200 and project.name in board.content.decode()


def test_reserved_on_is_the_registration_day(port_world):
    at = timezone.now() - dt.timedelta(days=400)
    project = services.register_project(
        {"name": "往年储备项目", "zone": "hexi", "street": unit(LUGOUQIAO), "amount": 1},
        actor=port_world["dispatcher"],
        at=at,
    )
    assert project.reserved_on == timezone.localdate(at)
    assert Project.objects.get(pk=project.pk).events.get().at == at

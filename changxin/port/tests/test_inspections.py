"""一码检查 / 无事不扰: each rule refused with its name, the lifecycle through the machine, scope,
the code page, the report and the plan import."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from changxin.core.models import AuditEntry, OrgUnit, Role, UnitKind
from changxin.core.tests.builders import certified_inspector, make_unit, make_user
from changxin.core.workflow import WorkflowError
from changxin.port import inspections
from changxin.port.inspection_import import import_plans
from changxin.port.models import Inspection, InspectionEvent, InspectionPlan, InspectionState

pytestmark = pytest.mark.django_db

MARKET, ENV = "110106D03", "110106D04"


def soon(days=1, hour=9):
    base = timezone.localtime() + dt.timedelta(days=days)
    return base.replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def world(port_world):
    market = certified_inspector("inspector", MARKET)
    env = certified_inspector("inspector_env", ENV)
    return {**port_world, "market": market, "env": env}


def plan(department_code, enterprise, when, items="食品安全检查"):
    return InspectionPlan.objects.create(
        department=OrgUnit.objects.get(code=department_code),
        year=when.year,
        month=when.month,
        enterprise=enterprise,
        items=items,
    )


def register(user, enterprise, when=None, **kwargs):
    when = when or soon()
    kwargs.setdefault("inspectors", [user])
    return inspections.register_inspection(
        enterprise,
        actor=user,
        legal_basis="《食品安全法》第一百一十条",
        items="食品经营许可检查",
        planned_from=when,
        planned_until=when + dt.timedelta(hours=3),
        **kwargs,
    )


def refused(code, *args, **kwargs):
    with pytest.raises(WorkflowError) as info:
        register(*args, **kwargs)
    assert info.value.code == code
    return info.value


def test_no_inspection_without_plan_or_trigger(world):
    error = refused("plan_or_trigger", world["market"], world["ours"])
    assert "无事不扰" in str(error.message)
    kept = Inspection.objects.get(state=InspectionState.REFUSED)
    assert kept.refused_rule == "plan_or_trigger"
    assert InspectionEvent.objects.filter(inspection=kept, action="refused").exists()
    # with a plan item of the department it is registered
    plan(MARKET, world["ours"], soon())
    inspection = register(world["market"], world["ours"])
    assert inspection.state == InspectionState.REGISTERED and inspection.is_planned
    assert AuditEntry.objects.filter(detail="port.inspection.register").exists()


def test_a_trigger_names_its_source(world, handle):
    refused("trigger_source", world["market"], world["ours"], trigger="risk")
    refused("complaint_demand", world["market"], world["ours"], trigger="complaint", trigger_ref="no-such")
    ok = register(world["market"], world["ours"], trigger="referral", trigger_ref="丰市监转〔2025〕3号")
    assert ok.state == InspectionState.REGISTERED and not ok.is_planned


def test_another_departments_plan_does_not_count(world):
    other = plan(ENV, world["ours"], soon())
    refused("plan_matches", world["market"], world["ours"], plan=other)


def test_grid_community_workers_and_volunteers_never_inspect(world):
    community = OrgUnit.objects.filter(kind=UnitKind.COMMUNITY).first()
    grid = make_user("grid", Role.INSPECTOR, community, full_name="网格员甲")
    volunteer = make_user("volunteer", Role.CITIZEN, full_name="志愿者乙")
    plan(MARKET, world["ours"], soon())
    error = refused(
        "not_an_inspector", world["market"], world["ours"], inspectors=[world["market"], grid, volunteer]
    )
    assert "网格员甲" in str(error.message) and "志愿者乙" in str(error.message)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):  # nor can they hold a certificate
        inspections.issue_certificate(
            grid, number="X1", valid_from=soon().date(), valid_until=soon(30).date()
        )


def test_certificate_valid_on_the_day(world):
    plan(MARKET, world["ours"], soon(40))
    short = certified_inspector("short", MARKET, days=10)
    error = refused("certificate_required", world["market"], world["ours"], soon(40), inspectors=[short])
    assert short.username in str(error.message)
    bare = make_user("bare", Role.INSPECTOR, OrgUnit.objects.get(code=MARKET))
    refused("certificate_required", world["market"], world["ours"], soon(40), inspectors=[bare])


def test_frequency_cap_by_credit_grade(world):
    ours = world["ours"]
    inspections.set_credit_grade(ours, "A", actor=None)  # A: one planned visit a year
    first_day = soon(1)
    plan(MARKET, ours, first_day)
    register(world["market"], ours, first_day)
    error = refused("frequency_cap", world["market"], ours, first_day + dt.timedelta(hours=5))
    assert "A" in str(error.message) and "1" in str(error.message)
    # a trigger is always allowed, and recorded with it
    triggered = register(
        world["market"], ours, first_day + dt.timedelta(hours=5), trigger="risk", trigger_ref="R-1"
    )
    assert triggered.trigger == "risk"
    # grade D has no cap
    inspections.set_credit_grade(ours, "D", actor=None)
    register(world["market"], ours, first_day + dt.timedelta(hours=6))


def test_frequency_cap_is_configurable(world, settings):
    settings.CHANGXIN_PORT_INSPECTION_RULES = {"caps": {"B": 0}}
    plan(MARKET, world["ours"], soon())
    refused("frequency_cap", world["market"], world["ours"])


def test_several_departments_in_one_period_make_one_joint_visit(world):
    ours = world["ours"]
    inspections.set_credit_grade(ours, "A", actor=None)
    day = soon(2)
    plan(MARKET, ours, day)
    plan(ENV, ours, day)
    first = register(world["market"], ours, day)
    second = register(world["env"], ours, day + dt.timedelta(hours=4))  # joins: one door, one visit
    first.refresh_from_db()
    assert second.joint_id and second.joint_id == first.joint_id
    assert second.planned_from == first.planned_from  # the joint visit's window
    assert len(inspections.visits_counted(ours, day.year)) == 1  # the cap counts the visit once
    error = refused("joint_visit", world["env"], ours, day + dt.timedelta(hours=4), join=False)
    assert "进一次门" in str(error.message)


def test_lifecycle_rectification_recheck_and_rating(world):
    ours = world["ours"]
    day = soon(1)
    plan(MARKET, ours, day)
    inspection = register(world["market"], ours, day)
    with pytest.raises(WorkflowError) as info:
        inspections.act(inspection, "start", world["market"], now=day - dt.timedelta(days=1))
    assert info.value.code == "outside_window"
    with pytest.raises(WorkflowError):  # another department's inspector is not one of its inspectors
        inspections.act(inspection, "start", world["env"], now=day)
    inspections.act(inspection, "start", world["market"], now=day + dt.timedelta(minutes=5))
    with pytest.raises(WorkflowError) as info:
        inspections.record_result(inspection, world["market"], result="findings", findings="", now=day)
    assert info.value.code == "result_required"
    inspections.record_result(
        inspection,
        world["market"],
        result="findings",
        findings="健康证过期",
        needs_rectification=True,
        now=day,
    )
    inspection.refresh_from_db()
    assert inspection.state == InspectionState.RECTIFYING
    assert inspection.rectification_due > day.date() + dt.timedelta(days=15)  # 15 working days
    with pytest.raises(WorkflowError):
        inspections.act(inspection, "rate", world["enterprise"], rating=5)  # not closed yet
    with pytest.raises(WorkflowError) as info:
        inspections.act(inspection, "recheck_fail", world["market"])
    assert info.value.code == "note_required"
    inspections.act(
        inspection, "recheck_pass", world["market"], note="已整改", now=day + dt.timedelta(days=3)
    )
    inspection.refresh_from_db()
    assert inspection.state == InspectionState.CLOSED and inspection.rectified_on_time
    with pytest.raises(WorkflowError):  # another enterprise's account
        inspections.rate(inspection, world["enterprise3"], rating=1)
    inspections.rate(inspection, world["enterprise"], rating=4, comment="规范")
    with pytest.raises(WorkflowError) as info:
        inspections.rate(inspection, world["enterprise2"], rating=1)
    assert info.value.code == "rated_once"
    actions = list(
        InspectionEvent.objects.filter(inspection=inspection).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["register", "start", "record_result", "order_rectification", "recheck_pass", "rate"]


def test_no_findings_closes(world):
    day = soon(1)
    inspection = register(world["market"], world["ours"], day, trigger="risk", trigger_ref="R-2")
    inspections.act(inspection, "start", world["market"], now=day)
    inspections.record_result(inspection, world["market"], result="no_findings", now=day)
    inspection.refresh_from_db()
    assert inspection.state == InspectionState.CLOSED and inspection.rectification_due is None


# --- screens: scope, the code, the report, the import --------------------------------------------


def test_scope_of_lists_and_pages(client, world):
    day = soon(1)
    ours = register(world["market"], world["ours"], day, trigger="risk", trigger_ref="R-3")
    theirs = register(world["env"], world["theirs"], day, trigger="risk", trigger_ref="R-4")
    refused("plan_or_trigger", world["market"], world["ours"], day)
    url = reverse("port:inspection", args=[theirs.pk])
    for user in ("inspector", "enterprise", "manager"):
        client.force_login(world[user])
        assert client.get(url).status_code == 404, user
        assert client.get(reverse("port:inspection", args=[ours.pk])).status_code == 200, user
        listed = client.get(reverse("port:inspections")).context["inspections"]
        assert theirs not in listed
    client.force_login(world["enterprise"])
    assert all(
        i.state != InspectionState.REFUSED
        for i in client.get(reverse("port:inspections")).context["inspections"]
    )
    client.force_login(world["enterprise3"])
    assert client.get(reverse("port:inspection", args=[ours.pk])).status_code == 404
    client.force_login(world["leader"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "cancel", "note": "领导"})
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.state == InspectionState.REGISTERED
    # an enterprise account cannot register, start or cancel
    client.force_login(world["enterprise"])
    assert (
        client.post(reverse("port:inspection", args=[ours.pk]), {"action": "cancel", "note": "x"}).status_code
        == 302
    )
    ours.refresh_from_db()
    assert ours.state == InspectionState.REGISTERED
    assert client.get(reverse("port:inspection-register")).status_code == 403


def test_the_code_shows_todays_registered_visit_and_nothing_personal(client, world):
    now = timezone.localtime()
    start = now - dt.timedelta(minutes=30)
    world["market"].full_name = "执法人员郑军"
    world["market"].save()
    register(world["market"], world["ours"], start, trigger="risk", trigger_ref="R-5")
    page = client.get(reverse("port:code", args=[world["ours"].public_code])).content.decode()
    assert "区市场监管局" in page or "市场监督管理局" in page
    assert "执法人员郑军" not in page and "执*****" in page  # masked name
    assert world["market"].inspector_certificates.first().number in page
    assert "《食品安全法》" in page
    assert "13910001001" not in page and "王丽" not in page  # the contact stays private
    empty = client.get(reverse("port:code", args=[world["theirs"].public_code])).content.decode()
    assert 'id="no-visit"' in empty


def test_register_view_names_the_rule(client, world):
    client.force_login(world["market"])
    day = soon(1)
    data = {
        "credit_code": world["ours"].credit_code,
        "inspectors": [world["market"].pk],
        "basis": "plan",
        "legal_basis": "《食品安全法》",
        "items": "检查",
        "planned_from": day.strftime("%Y-%m-%dT%H:%M"),
        "planned_until": (day + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
    }
    response = client.post(reverse("port:inspection-register"), data)
    assert response.status_code == 400
    assert "无事不扰" in response.content.decode()
    plan(MARKET, world["ours"], day)
    response = client.post(reverse("port:inspection-register"), data)
    assert response.status_code == 302, response.context["form"].errors


def test_report_and_formula_safe_csv(client, world):
    bad = make_unit("110106D98", '=HYPERLINK("http://x")', UnitKind.DEPARTMENT)
    odd = certified_inspector("odd", bad.code)
    day = soon(1)
    plan(MARKET, world["ours"], day)
    register(world["market"], world["ours"], day)
    register(odd, world["theirs"], day, trigger="risk", trigger_ref="R-6")
    client.force_login(world["leader"])
    response = client.get(reverse("port:inspection-report"), {"year": day.year})
    rows = {r["department"]: r for r in response.context["rows"]}
    market = rows[OrgUnit.objects.get(code=MARKET).name]
    assert market["total"] == 1 and market["planned_share"] == 100.0
    csv_text = client.get(
        reverse("port:inspection-report"), {"year": day.year, "format": "csv"}
    ).content.decode()
    assert "'=HYPERLINK" in csv_text
    client.force_login(world["market"])  # the department sees its own row only
    rows = client.get(reverse("port:inspection-report"), {"year": day.year}).context["rows"]
    assert [r["department"] for r in rows] == [OrgUnit.objects.get(code=MARKET).name]
    client.force_login(world["enterprise"])
    assert client.get(reverse("port:inspection-report")).status_code == 403


def _csv(*lines):
    data = io.BytesIO(("年度,月份,统一社会信用代码,检查事项,法律依据\n" + "\n".join(lines)).encode())
    data.name = "plan.csv"
    return data


def test_plan_import_is_all_or_nothing_with_every_bad_row(world):
    department = OrgUnit.objects.get(code=MARKET)
    code = world["ours"].credit_code
    report = import_plans(
        _csv(
            f"2026,3,{code},食品检查,食品安全法",
            "2026,13,{code},x,y".replace("{code}", code),
            "2026,4,91110106MA0000009X,x,y",
            f"2026,3,{code},重复,y",
        ),
        department=department,
    )
    assert report.rolled_back and InspectionPlan.objects.count() == 0
    assert sorted({e.line for e in report.errors}) == [3, 4, 5]
    report = import_plans(_csv(f"2026,3,{code},食品检查,食品安全法"), department=department)
    assert report.written == 1 and InspectionPlan.objects.get().department == department


def test_plan_upload_on_the_page(client, world):
    client.force_login(world["market"])
    response = client.post(reverse("port:inspection-plans"), {"file": _csv("2026,3,BAD,x,y")})
    assert response.status_code == 400 and "import-errors" in response.content.decode()
    upload = _csv(f"2026,5,{world['ours'].credit_code},食品检查,食品安全法")
    assert client.post(reverse("port:inspection-plans"), {"file": upload}).status_code == 302
    assert InspectionPlan.objects.count() == 1
    client.force_login(world["leader"])
    assert client.post(reverse("port:inspection-plans"), {"file": _csv()}).status_code == 403

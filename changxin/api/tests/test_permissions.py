"""Permission matrix generated from the API's own schema: every route, every method.

- no credentials → 401 everywhere;
- a street officer → 404 on another street's demand (read or transition);
- district leadership → reads work, every write is 403.
"""

import datetime as dt
import re

import pytest

from changxin.api.site import api as ninja_api
from changxin.api.tests.client import Api
from changxin.core.tests.builders import CHANGXINDIAN, ensure_taxonomy, new_demand, unit

pytestmark = pytest.mark.django_db

SCHEMA_ROUTES = [
    (path, method.upper())
    for path, operations in ninja_api.get_openapi_schema()["paths"].items()
    for method in operations
]
REQUIRED_QUERY = {
    "/api/v1/calendar/days": {"start": "2026-10-01", "end": "2026-10-08"},
    "/api/v1/calendar/add": {"start": "2026-09-30T10:00:00+08:00", "days": 1},
    "/api/v1/rankings": {"month": "2026-01"},
    "/api/v1/calendar/between": {"start": "2026-09-30T10:00:00+08:00", "end": "2026-10-09T10:00:00+08:00"},
}


def test_matrix_covers_every_route():
    assert len(SCHEMA_ROUTES) >= 11
    assert ("/api/v1/demands/{demand_id}/transitions/{name}", "POST") in SCHEMA_ROUTES
    port = {
        ("/api/v1/port/inspections", "GET"),
        ("/api/v1/port/inspections", "POST"),
        ("/api/v1/port/inspections/{inspection_id}", "GET"),
        ("/api/v1/port/inspections/{inspection_id}/transitions/{name}", "POST"),
        ("/api/v1/port/inspections/{inspection_id}/rating", "POST"),
        ("/api/v1/port/matches", "GET"),
        ("/api/v1/port/matches/{match_id}", "GET"),
        ("/api/v1/port/matches/{match_id}/transitions/{name}", "POST"),
        ("/api/v1/port/policies", "GET"),
        ("/api/v1/port/enterprises/{enterprise_id}/grants", "GET"),
    }
    assert port <= set(SCHEMA_ROUTES)


@pytest.fixture
def targets(world):
    """Path parameter values: a demand of 长辛店 (outside 卢沟桥), a unit, a category."""
    demand = new_demand(world["dispatcher"], street_code=CHANGXINDIAN)
    enterprise, project, suggestion = port_objects(CHANGXINDIAN)
    inspection, match, _policy = port_more(enterprise)
    return {
        "enterprise_id": enterprise.pk,
        "project_id": project.pk,
        "suggestion_id": suggestion.pk,
        "inspection_id": inspection.pk,
        "match_id": match.pk,
        "demand_id": demand.pk,
        "name": "acknowledge",
        "unit_id": unit(CHANGXINDIAN).pk,
        "category_id": ensure_taxonomy().pk,
    }


def port_objects(street_code: str):
    """An enterprise of the street (with its own account), an investment project and a suggestion."""
    from changxin.core.models import Role
    from changxin.core.tests.builders import make_user
    from changxin.port import services, suggestions
    from changxin.port.uscc import complete

    member = make_user(f"ent{street_code}", Role.ENTERPRISE)
    enterprise = services.register_enterprise(
        {"name": "接口测试企业", "credit_code": complete("91110106MA0000077"), "street": unit(street_code)},
        actor=None,
        members=[member],
    )
    project = services.register_project(
        {
            "name": "接口测试项目",
            "zone": "lize",
            "street": unit(street_code),
            "amount": 10,
            "enterprise": enterprise,
        },
        actor=None,
    )
    suggestion = suggestions.submit(enterprise, {"title": "接口建议", "content": "内容"}, actor=member)
    return enterprise, project, suggestion


def port_more(enterprise):
    """An inspection of the enterprise (triggered by a referral), a cooperation match between it and
    another enterprise, and a policy it is matched to."""
    import datetime as dt

    from django.utils import timezone

    from changxin.core.models import User
    from changxin.core.tests.builders import certified_inspector
    from changxin.port import cooperation, inspections, policies, services
    from changxin.port.uscc import complete

    centre = User.objects.get(username="dispatcher")
    inspector = certified_inspector("inspector", "110106D03")
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    inspection = inspections.register_inspection(
        enterprise,
        actor=inspector,
        inspectors=[inspector],
        legal_basis="《食品安全法》",
        items="食品经营许可检查",
        planned_from=start,
        planned_until=start + dt.timedelta(hours=3),
        trigger="referral",
        trigger_ref="丰市监转〔2026〕1号",
    )
    other = services.register_enterprise(
        {"name": "接口合作企业", "credit_code": complete("91110106MA0000078"), "street": enterprise.street},
        actor=None,
    )
    cooperation.post_item(
        enterprise,
        {"kind": "offer", "title": "低空无人机巡检", "description": "无人机巡检 河道 电力 巡检"},
        actor=centre,
        refresh=False,
    )
    cooperation.post_item(
        other,
        {"kind": "need", "title": "河道无人机巡检", "description": "河道 无人机 巡检 服务"},
        actor=centre,
    )
    match = enterprise.cooperation_items.get().offer_matches.get()
    policy = policies.register_policy({"title": "接口政策", "issuer": "区经信局"}, actor=None)
    policies.sync_policy(policy)
    return inspection, match, policy


def _url(path: str, targets: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(targets[m.group(1)]), path).removeprefix("/api/v1")


def _call(api: Api, path: str, method: str, targets: dict):
    url = _url(path, targets)
    if method == "GET":
        return api.get(url, REQUIRED_QUERY.get(path, {}))
    return api.post(url, BODY)


# one body for every POST: enough for each route's schema, so the answer is about the permission
BODY = {
    "note": "x",
    "demand_type": "complaint",
    "title": "t",
    "content": "c",
    "legal_basis": "x",
    "items": "x",
    "planned_from": "2030-01-07T09:00:00+08:00",
    "planned_until": "2030-01-07T12:00:00+08:00",
    "rating": 5,
}


@pytest.mark.parametrize(("path", "method"), SCHEMA_ROUTES)
def test_unauthenticated_is_401(path, method, targets):
    response = _call(Api(), path, method, targets)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


@pytest.mark.parametrize(("path", "method"), [r for r in SCHEMA_ROUTES if "{demand_id}" in r[0]])
def test_other_streets_demand_is_404(path, method, targets, api_as):
    assert _call(api_as("lugouqiao"), path, method, targets).status_code == 404
    assert _call(api_as("changxindian"), path, method, targets).status_code == 200


@pytest.mark.parametrize(("path", "method"), SCHEMA_ROUTES)
def test_leadership_reads_but_never_writes(path, method, targets, api_as):
    response = _call(api_as("leader"), path, method, targets)
    assert response.status_code == (200 if method == "GET" else 403), response.content


def test_unit_scope(world, api_as):
    officer = api_as("lugouqiao")
    assert officer.get(f"/units/{unit(CHANGXINDIAN).pk}").status_code == 404
    own = officer.get(f"/units/{unit('110106017').pk}").json()
    assert own["kind"] == "street" and own["child_count"] > 0
    communities = officer.get("/units", {"parent": own["id"]}).json()
    assert communities["count"] == own["child_count"]
    assert officer.get("/units", {"parent": unit(CHANGXINDIAN).pk}).status_code == 404
    assert api_as("citizen").get("/units").json()["count"] == 0


def test_work_calendar(world, api_as):
    api = api_as("lugouqiao")
    year = dt.date.today().year
    days = api.get("/calendar/days", {"start": f"{year}-10-01", "end": f"{year}-10-03"}).json()
    assert year in days["known_years"]
    assert [d["is_workday"] for d in days["days"]] == [False, False, False]  # National Day
    assert all(d["name"] for d in days["days"]) and not any(d["estimated"] for d in days["days"])
    far = api.get("/calendar/days", {"start": "2999-01-04", "end": "2999-01-04"}).json()["days"][0]
    assert far["estimated"] and far["is_workday"]  # unknown year: weekends-only, flagged
    added = api.get("/calendar/add", {"start": f"{year}-09-30T16:00:00+08:00", "hours": 2}).json()
    assert added["result"].startswith(f"{year}-10-") and not added["estimated"]
    assert dt.datetime.fromisoformat(added["result"]).weekday() < 5
    span = api.get(
        "/calendar/between", {"start": f"{year}-09-30T09:00:00+08:00", "end": f"{year}-09-30T17:00:00+08:00"}
    ).json()
    assert span["working_hours"] == 7 and span["working_days"] == 1
    bad = api.get("/calendar/days", {"start": f"{year}-01-01", "end": f"{year + 2}-01-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "end"


def test_rankings(world, api_as):
    from django.utils import timezone

    from changxin.demands.services import transition

    op = world["dispatcher"]
    demand = new_demand(op, street_code="110106017")
    lgq = world["lugouqiao"]
    transition(demand, "acknowledge", lgq)
    transition(demand, "contact", lgq, note="ok")
    transition(demand, "reply", lgq, note="done")
    transition(demand, "return_visit", op, resolution="resolved", satisfaction="satisfied")
    month = timezone.localdate().strftime("%Y-%m")
    ranking = api_as("leader").get("/rankings", {"month": month, "group": "street"}).json()
    assert ranking["group"] == "street" and ranking["weights"]["resolution_weight"] == 0.45
    # one demand is too few to rank (RULES.md): listed first among the unranked, with its figures
    assert ranking["rows"][0]["unit"]["name"] == "卢沟桥街道" and ranking["rows"][0]["rank"] is None
    assert ranking["rows"][0]["rates"]["satisfaction_rate"] == 1.0
    assert all(row["rank"] is None for row in ranking["rows"][1:])
    assert api_as("citizen").get("/rankings", {"month": month}).status_code == 403
    assert api_as("leader").get("/rankings", {"month": "2026-13"}).status_code == 422

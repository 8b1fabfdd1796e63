"""Permission matrix generated from the URL conf: every HTML view × every role × own/other scope.

`VIEWS` below declares, once, what each named URL answers to each role; a URL name the resolver
knows but `VIEWS` does not fails `test_every_view_is_declared`, so a new view must be added here.

Outcomes: 200 (shown), "login" (redirect to the login page), 302 (another redirect), 403, 404.
For views on an object, `own` is what the role gets for an object in its scope and `other` for the
same kind of object of another unit (长辛店街道, where no matrix user works): always 404, never 403,
so existence is not disclosed. No request anywhere may answer 5xx, and a POST by read-only district
leadership to any view changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from changxin.brands.models import Brand, PracticeCase
from changxin.core.models import OrgUnit, User
from changxin.core.tests.builders import (
    CHANGXINDIAN,
    LUGOUQIAO,
    hot_spot_in,
    monthly_problem_in,
    png_upload,
    proactive_task_in,
    station_demand,
    unit,
)
from changxin.demands.attachments import store_attachment
from changxin.demands.models import Demand, DemandAttachment, DemandEvent, DemandTask
from changxin.demands.services import transition
from changxin.pioneers.models import Commitment, ReliefApplication, ResidentRating
from changxin.port.models import Enterprise, EnterpriseDemand, Inspection, InspectionPlan, Project, Visit

pytestmark = pytest.mark.django_db

# role → demo login (None: anonymous)
ROLES = {
    "anonymous": None,
    "citizen": "citizen",
    "enterprise": "enterprise",
    "officer": "lugouqiao",
    "leader": "lugouqiao_lead",
    "operator": "dispatcher",
    "admin": "admin",
    "leadership": "leader",
    "service_manager": "manager",
    "inspector": "inspector",
    "party_staff": "party",
}
PUBLIC = {"citizen", "enterprise"}
UNIT = {"officer", "leader", "service_manager", "inspector", "party_staff"}
DISTRICT = {"operator", "admin", "leadership"}
STAFF = UNIT | DISTRICT
CENTRE = {"operator", "admin"}
SIGNED_IN = PUBLIC | STAFF
EVERYONE = SIGNED_IN | {"anonymous"}

# Namespaces that are not HTML views, each tested by its own generated matrix or spec tests.
NOT_HTML = {
    "admin": "Django admin: core/tests/test_scope.py, demands/tests/test_record_safety.py",
    "open311": "GeoReport v2 API: open311/tests",
}
NOT_HTML_PREFIXES = ("api/v1/", "i18n/", "media/", "static/")


@dataclass(frozen=True)
class View:
    """What one URL answers. `ok` roles get `own` (200 unless said); the other signed-in roles get
    `refused`; anonymous gets `anonymous`. `target` names the object in the path ("demand",
    "unit", "tracking", "attachment"); then `other` is the answer for another unit's object."""

    ok: frozenset
    anonymous: object = "login"
    refused: object = 404
    own: object = 200
    other: object = 404
    target: str | None = None
    pk_kwarg: str = "pk"
    method: str = "get"
    pk_in_body: bool = False  # the demand's pk goes in the form data (as `pk_kwarg`), not the path
    query: dict = field(default_factory=dict)
    args: dict = field(default_factory=dict)


def view(ok, **kwargs) -> View:
    return View(ok=frozenset(ok), **kwargs)


PORT = {"enterprise", "service_manager", "operator", "admin", "leadership"}
# 一码检查: inspectors (their department's), enterprise accounts (their own), service managers
# (their enterprises'), the district roles (all)
INSPECT = PORT | {"inspector"}

# The demo's party staff works at the district unit, so every demand is in their scope.
SEES_ALL = DISTRICT | {"party_staff"}
# who opens the party wing's pages (pioneers): party staff and the district-wide roles
PARTY = DISTRICT | {"party_staff"}
# who may draft a brand: party staff over the owner organisation and district administrators
BRAND_KEEPERS = {"party_staff", "admin"}
PARTY_TARGETS = {
    "brand",
    "brand_case",
    "party_org",
    "party_member",
    "party_case",
    "party_meeting",
    "party_transfer",
    "party_activity",
    "party_checkin",
    "party_volunteer_event",
    "party_commitment",
    "party_relief",
    "party_post",
    "party_honour",
    "party_session",
}
# who keeps a branch's records (meetings, dues, transfers, activities): party staff, district admins
KEEPERS = {"party_staff", "admin"}

VIEWS: dict[str, View] = {
    "home": view(EVERYONE, anonymous=200),  # the landing page, with the portal's links
    "login": view(EVERYONE, anonymous=200, own=302),  # signed in: redirected away from the form
    "logout": view(EVERYONE, anonymous=405, own=405),  # GET is refused; POST logs out
    "units": view(SIGNED_IN),  # the public roles get an empty list
    "unit-detail": view(STAFF, target="unit"),
    "favicon": view(EVERYONE, anonymous=301, own=301),  # to the static icon
    "healthz": view(EVERYONE, anonymous=200),  # the load balancer's probe: JSON, no personal data
    "demands:index": view(STAFF, own=302, refused=403),  # sends each role to its own list
    "demands:queue": view(CENTRE | {"leadership"}, refused=403),
    "demands:workbench": view(UNIT, refused=403),
    "demands:visits": view(CENTRE | {"leadership"}, refused=403),
    "demands:overdue": view(STAFF, refused=403),
    "demands:category-search": view(EVERYONE, anonymous=200),  # the taxonomy is public reference data
    "demands:detail": view(STAFF, refused=403, target="demand"),  # citizens follow theirs on the portal
    # only the centre and the handling unit's officers and leaders see the requester unmasked
    "demands:reveal-requester": view(
        CENTRE | {"officer", "leader"}, refused=403, target="demand", method="post"
    ),
    "demands:quick-dispatch": view(CENTRE, refused=403, target="demand"),
    "demands:attachment": view(STAFF, refused=403, target="attachment"),
    # scope first (404 for another unit's demand), then the empty form is a bad request
    "demands:act": view(
        STAFF, own=400, refused=403, target="demand", args={"action": "supervise"}, method="post"
    ),
    "station:home": view(EVERYONE, anonymous=200),
    "station:submit": view(EVERYONE, anonymous=200),
    "station:submitted": view(EVERYONE, anonymous=302, own=302),  # nothing submitted in this session
    "station:track": view(EVERYONE, anonymous=200),
    "station:track-status": view(
        EVERYONE, anonymous=200, target="tracking", other=200
    ),  # the code is the key
    "station:intake": view(CENTRE, refused=403),
    "station:caller-history": view(CENTRE, refused=403, query={"phone": "13912345678"}),
    "station:community-options": view(EVERYONE, anonymous=200, query={"street": "110106017"}),
    "station:category-options": view(EVERYONE, anonymous=200),
    "insight:home": view(STAFF, refused=403),
    "insight:drill": view(STAFF, refused=403, query={"metric": "response", "part": "numerator"}),
    # a unit's 三率 trend is open to all staff (rankings are district-wide); its drill-down is scoped
    "insight:unit": view(STAFF, refused=403, target="unit", other=200),
    "insight:hot-spots": view(STAFF, refused=403),
    "insight:hot-spot": view(STAFF, refused=403, target="hotspot"),  # a hot spot of the role's unit
    "insight:export-rankings": view(STAFF, refused=403),
    # the unit's own officers and leader appeal (an empty form is a bad request); nobody else may
    "insight:appeal": view(
        {"officer", "leader"}, own=400, refused=403, other=403, target="unit", method="post"
    ),
    # the centre decides (no such appeal: 404); nobody else may
    "insight:appeal-decide": view(
        CENTRE, own=404, refused=403, method="post", args={"pk": 2**31 - 1, "action": "accept"}
    ),
    "insight:export-demands": view(STAFF, refused=403),
    # 未诉先办: the centre and the hot spot's street leader create tasks (an empty form is a 400)
    "insight:proactive-create": view(
        CENTRE | {"leader"}, own=400, refused=403, target="hotspot", method="post"
    ),
    "insight:monthly-propose": view(CENTRE, own=400, refused=403, target="hotspot", method="post"),
    "insight:proactive": view(STAFF, refused=403),
    # only a party member of the area takes a task: staff who see it are refused, others get 404
    "insight:proactive-take": view(STAFF, own=403, refused=404, target="proactive", method="post"),
    "insight:monthly": view(STAFF, refused=403),
    "insight:monthly-problem": view(STAFF, refused=403, target="problem"),
    # the centre and the lead unit's officers and leaders act (an empty form is a 400)
    "insight:monthly-act": view(
        CENTRE | {"officer", "leader"}, own=400, refused=403, target="problem", method="post"
    ),
    "insight:monthly-task": view(
        CENTRE | {"officer", "leader"}, own=400, refused=403, target="problem", method="post"
    ),
    "insight:monthly-public": view(EVERYONE, anonymous=200),  # 每月一题 is published
    # dashboards (insight/board_views.py): the district board for all staff, scoped to each
    "insight:dashboard": view(STAFF, refused=403),
    # the street boards a role may open: none for a department's inspector
    "insight:dashboard-streets": view(STAFF - {"inspector"}, refused=403),
    # a street's board: its own staff and the district; any other street is a 404 (party staff's
    # own unit is the district, not a street)
    "insight:dashboard-street": view(STAFF - {"inspector", "party_staff"}, refused=404, target="unit"),
    "insight:dashboard-enterprise": view(DISTRICT | {"service_manager"}, refused=403),
    "insight:dashboard-party": view(PARTY, refused=403),
    # the monthly report: the district-wide roles (an empty form is a bad request; no such report: 404)
    "insight:reports": view(DISTRICT, refused=403),
    "insight:report-request": view(DISTRICT, own=400, refused=403, method="post"),
    "insight:report": view(DISTRICT, own=404, refused=403, args={"pk": 2**31 - 1}),
    "insight:report-file": view(DISTRICT, own=404, refused=403, args={"pk": 2**31 - 1, "kind": "xlsx"}),
    # everyone signed in has an inbox (the navigation shows it to staff); reading needs a write
    "notifications:inbox": view(SIGNED_IN),
    "notifications:read-all": view(SIGNED_IN - {"leadership"}, own=302, refused=403, method="post"),
    # no such notification: nobody's (someone else's is a 404 too: notifications/tests/test_inbox.py)
    "notifications:open": view(SIGNED_IN, own=404, method="post", args={"pk": 2**31 - 1}),
    # 先丰港: enterprise accounts (their own enterprise), service managers (theirs), centre, leadership
    "port:home": view(PORT, refused=403),
    "port:ranking": view(PORT - {"enterprise"}, refused=403),
    "port:enterprise": view(PORT, refused=403, target="enterprise"),
    "port:card": view(PORT, refused=403, target="enterprise"),
    "port:file-demand": view({"enterprise"}, refused=403, target="enterprise"),
    "port:visit": view({"service_manager"}, refused=403, target="enterprise"),
    # 一卡三包: the manager and the centre; an empty form is sent back with a message
    "port:packages": view(
        {"service_manager"} | CENTRE, own=302, refused=403, target="enterprise", method="post"
    ),
    # the machine decides whether the demand can be rated; an empty form is sent back with a message
    "port:rate": view({"enterprise"}, own=302, refused=403, target="demand", method="post"),
    "port:code": view(EVERYONE, anonymous=200, target="enterprise_code", other=200),  # the code is the key
    "port:projects": view(PORT, refused=403),
    # its page shows the moves the machine offers (none for leadership; a POST by them is a 403)
    "port:project": view(PORT, refused=403, target="project"),
    # 合作方向 / 意见建议 / policies (port/views_cooperation.py) and the pipeline CSV
    "port:projects-export": view(PORT, refused=403),
    "port:cooperation": view(PORT, refused=403),
    "port:cooperation-new": view(PORT - {"leadership"}, refused=403),  # read-only: nothing to post for
    "port:match": view(PORT, refused=403, target="match"),
    "port:scenarios": view(PORT, refused=403),
    "port:scenario-new": view(CENTRE, refused=403),
    "port:suggestions": view(SIGNED_IN - {"citizen"}, refused=403),
    "port:suggestion-new": view({"enterprise"}, refused=403),
    # scope alone: the enterprise's street, its manager and accounts, the responsible unit
    "port:suggestion": view(SIGNED_IN - {"citizen", "inspector"}, target="suggestion"),
    "port:policies": view(PORT, refused=403),
    "port:policy-new": view(CENTRE, refused=403),
    "port:policy": view(PORT, refused=403, target="policy", other=200),  # policies are public to the wing
    "port:inspections": view(INSPECT, refused=403),
    "port:inspection-register": view({"inspector"}, refused=403),
    "port:inspection-report": view(INSPECT - {"enterprise"}, refused=403),
    "port:inspection-plans": view({"inspector"} | DISTRICT, refused=403),
    # its page offers what the machine allows (a POST by leadership, who has no relation: 403)
    "port:inspection": view(INSPECT, refused=403, target="inspection"),
    "triage:similar": view(STAFF, target="demand", pk_kwarg="demand_pk"),
    "triage:reply-check": view(
        STAFF,
        refused=404,
        target="demand",
        method="post",
        pk_in_body=True,
        pk_kwarg="demand_id",
        query={"reply": "已解决"},
    ),
    # the party wing: party staff and the district-wide roles; members reach their own page
    # (pioneers/tests/test_views.py); personal data is unmasked for party staff only
    "pioneers:home": view(PARTY, refused=403),
    "pioneers:organisation": view(PARTY, target="party_org"),
    "pioneers:member": view(PARTY, target="party_member"),
    "pioneers:reveal": view({"party_staff"}, refused=403, target="party_member", method="post"),
    "pioneers:take": view(PARTY, own=400, target="party_member", method="post"),
    # adjusting points: party staff over the organisation (district admins too); deciding: 400 without a choice
    "pioneers:adjust": view(
        {"party_staff", "admin"}, own=400, refused=403, target="party_member", method="post"
    ),
    "pioneers:decide": view(
        PARTY, own=400, target="party_member", method="post", args={"adjustment_pk": 2**31 - 1}
    ),
    "pioneers:case": view(PARTY, target="party_case"),
    "pioneers:step": view(PARTY, own=400, target="party_case", method="post"),
    "pioneers:record": view(PARTY, own=400, target="party_case", method="post"),
    # 多点: published brands are public figures (every signed-in user); drafts are seen by whoever
    # sees the owner organisation; a POST without a known action or a valid form is a bad request
    "brands:home": view(SIGNED_IN),
    "brands:matrix-csv": view(SIGNED_IN),
    "brands:new": view(BRAND_KEEPERS, refused=403),
    "brands:brand": view(PARTY, target="brand"),
    "brands:step": view(PARTY, own=400, target="brand", method="post"),
    "brands:case-new": view(PARTY, own=400, target="brand", method="post"),
    "brands:case-step": view(PARTY, own=400, target="brand_case", method="post"),
    # branch life, dues, transfers, volunteering (pioneers/views_branch.py): pages for the party wing's
    # readers; writes for the keepers (an empty form is a bad request); secretaries in pioneers/tests
    "pioneers:compliance": view(PARTY, refused=403),
    "pioneers:branch": view(PARTY, target="party_org"),
    "pioneers:meeting-new": view(KEEPERS, refused=403, target="party_org"),
    "pioneers:meeting": view(PARTY, target="party_meeting"),
    "pioneers:dues": view(PARTY, target="party_org"),
    "pioneers:dues-base": view(KEEPERS, own=400, refused=403, target="party_member", method="post"),
    "pioneers:dues-pay": view(KEEPERS, own=400, refused=403, target="party_member", method="post"),
    "pioneers:transfers": view(PARTY, refused=403),
    "pioneers:transfer-new": view(KEEPERS, own=400, refused=403, target="party_member", method="post"),
    "pioneers:transfer": view(PARTY, target="party_transfer"),
    "pioneers:transfer-step": view(KEEPERS, own=400, refused=403, target="party_transfer", method="post"),
    "pioneers:activities": view(PARTY, refused=403),
    "pioneers:activity-new": view(KEEPERS, own=400, refused=403, method="post"),
    "pioneers:activity": view(PARTY, target="party_activity"),
    "pioneers:activity-act": view(PARTY, own=400, refused=403, target="party_activity", method="post"),
    # the page a scanned check-in code opens: members with a login only (none in this matrix)
    "pioneers:checkin": view(set(), refused=403, target="party_checkin", pk_kwarg="token"),
    "pioneers:volunteer-source": view(PARTY, own=302, target="party_volunteer_event"),
    # 承诺践诺 and 容错纠错 (views_commitments.py): a member's page as the member page; the wall is
    # public; any signed-in user reaches the rating of a public commitment (a bad form: 400)
    "pioneers:commitments": view(PARTY, target="party_member"),
    "pioneers:commitment-new": view(PARTY, own=400, target="party_member", method="post"),
    "pioneers:commitment-step": view(PARTY, own=400, target="party_commitment", method="post"),
    "pioneers:commitment-progress": view(PARTY, own=400, target="party_commitment", method="post"),
    "pioneers:commitment-rate": view(SIGNED_IN, own=400, other=400, target="party_commitment", method="post"),
    "pioneers:wall": view(EVERYONE, anonymous=200, args={"code": "110106017005"}),
    "pioneers:relief-apply": view(PARTY, own=400, target="party_member", method="post"),
    "pioneers:relief-decide": view(PARTY, own=400, target="party_relief", method="post"),
    # 先锋岗, 先锋者荣, 先锋者说, evaluation sheets (pioneers/views_honours.py; pioneers/tests/test_honours.py)
    "pioneers:posts": view(PARTY, target="party_org"),
    "pioneers:post-new": view(KEEPERS, own=400, refused=403, target="party_org", method="post"),
    "pioneers:post": view(PARTY, target="party_post"),
    "pioneers:post-change": view(KEEPERS, own=400, refused=403, target="party_post", method="post"),
    "pioneers:honours": view(PARTY, target="party_org"),
    "pioneers:nominate": view(KEEPERS, own=400, refused=403, target="party_member", method="post"),
    "pioneers:honour-step": view(PARTY, own=400, target="party_honour", method="post"),
    "pioneers:roll": view(EVERYONE, anonymous=200),  # the public honour roll: names and organisations only
    "pioneers:sessions": view(PARTY, target="party_org"),
    "pioneers:session-new": view(KEEPERS, own=400, refused=403, target="party_org", method="post"),
    "pioneers:session": view(PARTY, target="party_session"),
    "pioneers:evaluation": view(PARTY, target="party_member"),
    "pioneers:evaluation-export": view(PARTY, target="party_org"),
}


def _walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or namespace
            yield from _walk(pattern.url_patterns, route, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), route, namespace


def html_views() -> dict[str, str]:
    found = {}
    for name, route, namespace in _walk(get_resolver().url_patterns):
        if namespace in NOT_HTML or route.startswith(NOT_HTML_PREFIXES):
            continue
        found[name] = route
    return found


URL_NAMES = sorted(html_views())


def test_every_view_is_declared():
    undeclared = sorted(set(URL_NAMES) - set(VIEWS))
    stale = sorted(set(VIEWS) - set(URL_NAMES))
    assert not undeclared, f"add these URL names to VIEWS in {__file__}: {undeclared}"
    assert not stale, f"VIEWS names URLs that no longer exist: {stale}"
    assert len(URL_NAMES) >= 30


@pytest.fixture
def targets(demo_world):
    """Objects in each role's scope (`own`) and of 长辛店 (`other`)."""
    operator = demo_world["dispatcher"]

    def led_by(code, requester=None):
        demand = station_demand(actor=requester)
        transition(demand, "dispatch", operator, lead_unit=unit(code))
        store_attachment(demand, png_upload())
        return Demand.objects.get(pk=demand.pk)

    lugouqiao = led_by(LUGOUQIAO, demo_world["citizen"])
    by_unit = {LUGOUQIAO: lugouqiao}
    for username in ("manager", "inspector"):
        code = demo_world[username].unit.code
        by_unit[code] = led_by(code)
    own_of = {
        "citizen": lugouqiao,
        "enterprise": led_by(LUGOUQIAO, demo_world["enterprise"]),
        **{role: by_unit.get(demo_world[ROLES[role]].unit.code, lugouqiao) for role in STAFF},
    }
    other = led_by(CHANGXINDIAN)
    # enterprises (先丰港): one of 卢沟桥 with the demo manager and the demo enterprise account, one of 长辛店
    ours, theirs = port_enterprises(demo_world)
    ours_project, theirs_project = port_projects(ours, theirs)
    ours_coop = port_coop(ours, demo_world)
    for demand in own_of.values():
        demand.port_enterprise, demand.port_project = ours, ours_project
        demand.port_coop = ours_coop
    other.port_enterprise, other.port_project = theirs, theirs_project
    other.port_coop = port_coop(theirs, demo_world)
    ours_inspection, theirs_inspection = port_inspections(demo_world, ours, theirs)
    for demand in own_of.values():
        demand.port_enterprise, demand.port_project = ours, ours_project
        demand.port_inspection = ours_inspection
    other.port_enterprise, other.port_project = theirs, theirs_project
    other.port_inspection = theirs_inspection
    return {
        "party_own": _party_objects(LUGOUQIAO),
        "party_other": _party_objects(CHANGXINDIAN),
        "own_of": own_of,
        "other": other,
    }


def port_enterprises(demo_world):
    from changxin.port.services import register_enterprise
    from changxin.port.uscc import complete

    ours = register_enterprise(
        {
            "name": "矩阵测试企业",
            "credit_code": complete("91110106MA0000001"),
            "street": unit(LUGOUQIAO),
            "manager": demo_world["manager"],
            "contact_phone": "13910001001",
        },
        actor=None,
        members=[demo_world["enterprise"]],
    )
    theirs = register_enterprise(
        {
            "name": "长辛店测试企业",
            "credit_code": complete("91110106MA0000002"),
            "street": unit(CHANGXINDIAN),
        },
        actor=None,
    )
    return ours, theirs


def port_projects(ours, theirs):
    from changxin.port.services import register_project

    def project(enterprise, name):
        data = {"name": name, "zone": "lize", "street": enterprise.street, "amount": 100}
        return register_project({**data, "enterprise": enterprise, "manager": enterprise.manager}, actor=None)

    return project(ours, "矩阵测试项目"), project(theirs, "长辛店测试项目")


def port_coop(enterprise, demo_world) -> dict:
    """A suggestion of `enterprise`, a match of its offer with a city scenario, a policy."""
    from changxin.core.models import Role
    from changxin.core.tests.builders import make_user
    from changxin.port import cooperation, policies, suggestions
    from changxin.port.models import Match

    member = enterprise.members.first() or make_user(f"coop{enterprise.pk}", Role.ENTERPRISE)
    enterprise.members.add(member)
    suggestion = suggestions.submit(enterprise, {"title": "矩阵建议", "content": "内容"}, actor=member)
    offer = cooperation.post_item(
        enterprise,
        {"kind": "offer", "title": f"无人机巡检{enterprise.pk}", "description": "无人机巡检服务"},
        actor=demo_world["dispatcher"],
        refresh=False,
    )
    scenario = cooperation.publish_scenario(
        {"title": "无人机巡检场景", "description": "无人机巡检", "owner_unit": unit("110106D11")},
        actor=demo_world["dispatcher"],
    )
    match = Match.objects.filter(offer=offer, scenario=scenario).first()
    policy = policies.register_policy({"title": f"矩阵政策{enterprise.pk}", "issuer": "区商务局"}, actor=None)
    return {"suggestion": suggestion, "match": match, "policy": policy}


def port_inspections(demo_world, ours, theirs):
    """An inspection of `ours` by the demo inspector's department (市场监管局), one of `theirs` by
    another department (生态环境局), both registered for tomorrow on a risk signal."""
    import datetime as dt

    from django.utils import timezone

    from changxin.core.tests.builders import certified_inspector
    from changxin.port.inspections import register_inspection

    tomorrow = timezone.now() + dt.timedelta(days=1)

    def inspect(user, enterprise):
        return register_inspection(
            enterprise,
            actor=user,
            inspectors=[user],
            legal_basis="《食品安全法》",
            items="食品经营许可检查",
            planned_from=tomorrow,
            planned_until=tomorrow + dt.timedelta(hours=2),
            trigger="risk",
            trigger_ref="R-1",
        )

    market = certified_inspector(demo_world["inspector"].username)
    env = certified_inspector("matrix_env", "110106D04")
    return inspect(market, ours), inspect(env, theirs)


def _party_objects(unit_code: str) -> dict:
    """A party branch of the unit, a member and a development case (pioneers)."""
    import datetime as dt

    from changxin.core.tests.builders import party_member, party_organisation
    from changxin.pioneers.services import record_application

    org = party_organisation(unit_code)
    case = record_application(
        org, name="申请人", birth_date=dt.date(1990, 1, 1), applied_on=dt.date(2025, 1, 6)
    )
    from changxin.brands.services import add_case, create_brand

    brand = create_brand(owner=org, name=f"{org.name}品牌", field="governance", description="品牌简介" * 6)
    today = dt.date.today()
    brand_case = add_case(
        brand, title="案例", summary="做法", area=org.unit.street(), starts_on=today, ends_on=today
    )
    return {
        "party_org": org,
        "party_member": party_member(org, "党员"),
        "party_case": case,
        "brand": brand,
        "brand_case": brand_case,
        **_branch_objects(org, unit_code),
        **_honour_objects(org),
    }


def _honour_objects(org) -> dict:
    """A vanguard post, a nominated honour (the top of the ranking) and a sharing session."""
    from decimal import Decimal

    from django.utils import timezone

    from changxin.core.tests.builders import party_member
    from changxin.pioneers import honours, ledger, posts
    from changxin.pioneers.models import PointEntry

    member = party_member(org, "先锋岗党员")
    year = timezone.localdate().year
    PointEntry.objects.create(
        member=member, kind="service", points=Decimal("5"), at=timezone.now(), year=year,
        source_stream="demands", source_event_id=member.pk,
    )  # fmt: skip
    ledger.recompute_total(member, year)
    post = posts.create_post(
        org, name="党员先锋岗", place=org.unit, members=[member], starts_on=timezone.localdate()
    )
    session = posts.record_session(org, held_on=timezone.localdate(), topic="先锋者说", speakers=[member])
    return {"party_post": post, "party_honour": honours.nominate(member, year), "party_session": session}


def _branch_objects(org, unit_code: str) -> dict:
    """A meeting, a transfer, a volunteer activity (its check-in code and first event) of the branch."""
    import datetime as dt
    from types import SimpleNamespace

    from django.utils import timezone

    from changxin.core.tests.builders import party_member, party_organisation
    from changxin.pioneers import branch_life, transfers, volunteering

    mover = party_member(org, "转出党员")
    meeting = branch_life.record_meeting(
        org,
        kind="theme_day",
        held_on=dt.date(2025, 3, 5),
        topic="主题党日",
        attendance={m.pk: (True, "") for m in org.members.all()},
    )
    receiver = party_organisation(unit_code, "接收党支部")
    transfer = transfers.request_transfer(mover, receiver, on=dt.date(2025, 3, 1))
    start = timezone.now() + dt.timedelta(days=1)
    activity = volunteering.create_activity(
        org,
        title="社区清洁",
        place="社区广场",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=5,
    )
    return {
        "party_meeting": meeting,
        "party_transfer": transfer,
        "party_activity": activity,
        "party_checkin": SimpleNamespace(pk=volunteering.checkin_token(activity)),
        "party_volunteer_event": activity.events.first(),
        **_commitment_objects(org),
    }


def _commitment_objects(org) -> dict:
    """A public commitment of a member of the branch, and a relief application against a penalty."""
    from decimal import Decimal

    from django.utils import timezone

    from changxin.core import roles
    from changxin.core.models import OrgUnit
    from changxin.core.tests.builders import party_member
    from changxin.pioneers import commitments
    from changxin.pioneers.models import PointEntry

    member = party_member(org, "承诺党员")
    community = OrgUnit.objects.filter(kind__in=roles.COMMUNITY_KINDS, path__startswith=org.unit.path).first()
    commitment = commitments.create_commitment(
        member,
        year=timezone.localdate().year,
        title="承诺",
        content="每周为独居老人代购生活用品。",
        community=community,
    )
    commitment = commitments.step(commitment, "publish", None)
    penalty = PointEntry.objects.create(
        member=member, kind="service", points=Decimal("-1"), at=timezone.now(), year=timezone.localdate().year,
        source_stream="demands", source_event_id=member.pk,
    )  # fmt: skip
    relief = commitments.apply_for_relief(penalty, reason="超期因暴雨封路，已提前报备。")
    return {"party_commitment": commitment, "party_relief": relief}


def _target(targets, spec: View, demand: Demand, other: bool = False):
    """The object a view is asked about: the demand, or a party-wing object of the same unit."""
    if spec.target in PARTY_TARGETS:
        return targets["party_other" if other else "party_own"][spec.target]
    return demand


def _kwargs(spec: View, demand: Demand, unit_code: str) -> dict:
    kwargs = dict(spec.args)
    if spec.target in PARTY_TARGETS:
        kwargs[spec.pk_kwarg] = demand.pk
    if spec.target in ("demand", "attachment") and not spec.pk_in_body:
        kwargs[spec.pk_kwarg] = demand.pk
    if spec.target == "attachment":
        kwargs["attachment_pk"] = DemandAttachment.objects.filter(demand=demand).first().pk
    if spec.target == "unit":
        kwargs["code"] = unit_code
    if spec.target == "tracking":
        kwargs["code"] = demand.tracking_code
    if spec.target == "hotspot":
        kwargs["pk"] = hot_spot_in(unit_code).pk
    if spec.target == "proactive":
        kwargs["pk"] = proactive_task_in(unit_code).pk
    if spec.target == "problem":
        kwargs["pk"] = monthly_problem_in(unit_code).pk
    if spec.target == "enterprise":
        kwargs[spec.pk_kwarg] = demand.port_enterprise.pk
    if spec.target == "project":
        kwargs[spec.pk_kwarg] = demand.port_project.pk
    if spec.target in ("match", "suggestion", "policy"):
        kwargs[spec.pk_kwarg] = demand.port_coop[spec.target].pk
    if spec.target == "inspection":
        kwargs[spec.pk_kwarg] = demand.port_inspection.pk
    if spec.target == "enterprise_code":
        kwargs["code"] = demand.port_enterprise.public_code
    return kwargs


def _url(name: str, spec: View, demand: Demand, unit_code: str) -> str:
    return reverse(name, kwargs=_kwargs(spec, demand, unit_code))


def _outcome(response):
    if response.status_code == 302 and "/login/" in response["Location"]:
        return "login"
    return response.status_code


def _call(client, name: str, spec: View, demand: Demand, unit_code: str):
    """(url, response) of the view `name` asked about `demand` / the unit `unit_code`."""
    url = _url(name, spec, demand, unit_code)
    data = {**spec.query, **({spec.pk_kwarg: demand.pk} if spec.pk_in_body else {})}
    return url, getattr(client, spec.method)(url, data)


def _client_for(client, demo_world, role):
    if ROLES[role]:
        client.force_login(demo_world[ROLES[role]])
    return client


def _own_unit_code(demo_world, role) -> str:
    if role in UNIT:
        return demo_world[ROLES[role]].unit.code
    return LUGOUQIAO


@pytest.mark.parametrize("name", URL_NAMES)
@pytest.mark.parametrize("role", list(ROLES))
def test_matrix(client, demo_world, targets, name, role):
    spec = VIEWS[name]
    demand = targets["own_of"].get(role, targets["own_of"]["citizen"])
    client = _client_for(client, demo_world, role)
    demand = _target(targets, spec, demand)
    url, response = _call(client, name, spec, demand, _own_unit_code(demo_world, role))
    if role == "anonymous":
        expected = spec.anonymous
    elif role in spec.ok:
        expected = spec.own
    else:
        expected = spec.refused
    assert response.status_code < 500
    assert _outcome(response) == expected, f"{role} {spec.method.upper()} {url}"

    if spec.target and role != "anonymous" and role in spec.ok:
        other_expected = spec.own if role in SEES_ALL else spec.other
        other_url, other = _call(
            client, name, spec, _target(targets, spec, targets["other"], True), CHANGXINDIAN
        )
        assert other.status_code < 500
        assert _outcome(other) == other_expected, (
            f"{role} {spec.method.upper()} {other_url} (another unit's object)"
        )


def _snapshot():
    return (
        list(Demand.objects.order_by("pk").values_list("pk", "state", "updated_at", "lead_unit")),
        DemandEvent.objects.count(),
        DemandTask.objects.count(),
        DemandAttachment.objects.count(),
        User.objects.count(),
        list(OrgUnit.objects.order_by("pk").values_list("pk", "name", "is_active")),
        list(Enterprise.objects.order_by("pk").values_list("pk", "updated_at", "manager")),
        EnterpriseDemand.objects.count(),
        Visit.objects.count(),
        list(Project.objects.order_by("pk").values_list("pk", "stage", "version")),
        list(Brand.objects.order_by("pk").values_list("pk", "state", "version")),
        PracticeCase.objects.count(),
        _port_coop_snapshot(),
    )


def _port_coop_snapshot():
    from changxin.port.models import CooperationItem, Match, PolicyGrant, Scenario, Suggestion

    return (
        CooperationItem.objects.count(),
        Scenario.objects.count(),
        list(Match.objects.order_by("pk").values_list("pk", "state", "version")),
        list(Suggestion.objects.order_by("pk").values_list("pk", "state", "version")),
        list(PolicyGrant.objects.order_by("pk").values_list("pk", "state", "version")),
        list(Inspection.objects.order_by("pk").values_list("pk", "state", "version", "rating")),
        InspectionPlan.objects.count(),
        list(Commitment.objects.order_by("pk").values_list("pk", "state", "version")),
        list(ReliefApplication.objects.order_by("pk").values_list("pk", "state", "version")),
        ResidentRating.objects.count(),
    )


@pytest.mark.parametrize("name", URL_NAMES)
def test_leadership_posts_change_nothing(client, demo_world, targets, name):
    spec = VIEWS[name]
    if name == "logout":
        pytest.skip("logging out changes no record")
    demand = _target(targets, spec, targets["own_of"]["leadership"])
    url = _url(name, spec, demand, LUGOUQIAO)
    client.force_login(demo_world["leader"])
    before = _snapshot()
    body = {
        "note": "领导批示",
        "lead_unit": unit(CHANGXINDIAN).pk,
        "title": "领导提交",
        "content": "领导提交的内容",
        "demand_type": "complaint",
        "street": unit(LUGOUQIAO).pk,
        "requester_name": "领导",
        "requester_phone": "13900000000",
        "kind": "general",
    }
    response = client.post(url, body)
    assert response.status_code < 500, url
    assert _snapshot() == before, f"leadership POST {url} changed the record"

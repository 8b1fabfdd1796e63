"""The one set of test builders: units, users of every role, demands in any state.

Every demand is made through the real services (`demands.services.create_demand` and
`transition`), never by writing a state. Three ready-made worlds serve the apps' tests:

- `demo_users()` (the `demo_world` fixture): Fengtai's real divisions, this year's calendar and the
  demo logins, one per role, keyed by username (`admin`, `leader`, `dispatcher`, `lugouqiao`,
  `lugouqiao_lead`, `changxindian`, `chengguan`, `manager`, `inspector`, `party`, `citizen`,
  `enterprise`, …);
- `build_world()` → `SmallWorld`: a hand-made tree of two streets, two communities, two
  departments and the 2025–2027 calendar (fast; for the engine's tests);
- `FengtaiWorld()`: the real divisions, the 2024–2026 calendar and one officer per unit used,
  with demands placed in time (for 三率 and rankings).

Demands: `new_demand(actor, street_code=…)` (hotline intake, optionally dispatched),
`SmallWorld.demand(**overrides)`, `FengtaiWorld.new/handle`, `station_demand` /
`station_replied_demand` (portal intake), and `demand_in_state(state, users, street_code=…)` which
walks any demand to any state of the main path through the services. `ThisMonth(span)` gives
"recent" moments that stay in the running month at any hour (the suite runs at 00:10 on the 1st).
"""

from __future__ import annotations

import datetime as dt
import itertools
import struct
import zlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile

from changxin.core.divisions import load_divisions
from changxin.core.models import OrgUnit, Role, UnitKind, User
from changxin.core.workcalendar import calendar_changed, seed_from_chinese_calendar
from changxin.demands import services
from changxin.demands.models import Category, Demand
from changxin.demands.services import create_demand, transition
from changxin.demands.taxonomy import load_taxonomy

TZ = ZoneInfo("Asia/Shanghai")


class ThisMonth:
    """Recent moments for a test whose history must count in "this month" whenever it runs.

    `ago(hours=2)` is now minus 2 hours, unless the month (Beijing time) began less than `span`
    ago: then every `ago` is scaled by the same factor, so the moments keep their order and all
    fall between the month's first moment and now. `span` is the longest `ago` the test uses.
    """

    def __init__(self, span: dt.timedelta):
        from django.utils import timezone

        self.now = timezone.now()
        month = dt.datetime.combine(timezone.localdate(self.now).replace(day=1), dt.time.min, TZ)
        self.scale = min(1.0, (self.now - month) / span)

    def ago(self, **delta) -> dt.datetime:
        return self.now - dt.timedelta(**delta) * self.scale


PASSWORD = "pw-for-tests"
_phones = itertools.count(1000)

# Units used by the tests (codes from the real Fengtai data).
DISTRICT, CENTRE = "110106", "110106C00"
LUGOUQIAO, CHANGXINDIAN, FENGTAI, WANGZUO, CHENGGUAN, ZHUJIAN = (
    "110106017",
    "110106011",
    "110106009",
    "110106101",
    "110106D01",
    "110106D02",
)


# --- time -------------------------------------------------------------------------------------


def local(*args) -> dt.datetime:
    """A Beijing-time datetime: local(2026, 3, 2, 9, 0)."""
    return dt.datetime(*args, tzinfo=TZ)


def at(day: int, hour: int = 10, minute: int = 0, month: int = 3, year: int = 2025) -> dt.datetime:
    """A Beijing-time datetime in March 2025 unless told otherwise."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


# --- units, users, taxonomy -------------------------------------------------------------------


def make_unit(code, name, kind, parent=None) -> OrgUnit:
    return OrgUnit.objects.create(code=code, name=name, kind=kind, parent=parent)


def make_user(username, role, unit=None, *, password=PASSWORD, **extra) -> User:
    """A user of any role (`Role.*`); staff-side roles get `is_staff` from `User.save`."""
    return User.objects.create_user(username=username, password=password, role=role, unit=unit, **extra)


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def ensure_taxonomy() -> Category:
    """Categories come from a data migration, but a transactional test may have flushed them."""
    load_taxonomy()
    return Category.objects.filter(level=3, is_active=True).order_by("pk").first()


def divisions_and_calendar(calendar_years) -> None:
    """Fengtai's real divisions and the official calendar of `calendar_years` (no users)."""
    load_divisions()
    seed_from_chinese_calendar(list(calendar_years))


def demo_users() -> dict[str, User]:
    """Fengtai's divisions, the official calendar for this year and next, and the demo logins.

    Returns the demo users by username (see `core.demo.DEMO_USERS`: one per role).
    """
    from django.utils import timezone

    from changxin.core.demo import create_demo_users

    load_divisions()
    year = timezone.localdate().year
    seed_from_chinese_calendar([year, year + 1])
    return {user.username: user for user in create_demo_users()}


# --- demands ----------------------------------------------------------------------------------


def new_demand(actor, *, street_code: str | None = None, category=None, **data) -> Demand:
    """A hotline demand received by `actor` (an operator), dispatched to `street_code` when given."""
    fields = {
        "channel": "hotline",
        "demand_type": "complaint",
        "title": "楼下餐馆油烟扰民",
        "content": "每天晚上油烟很大，联系电话13812345678。",
        "requester_name": "张三丰",
        "requester_phone": "13812345678",
        "address": "卢沟桥街道小井村",
        "category": category or ensure_taxonomy(),
    }
    fields.update(data)
    demand, _ = create_demand(fields, actor=actor)
    if street_code:
        demand = transition(demand, "dispatch", actor, lead_unit=unit(street_code).pk)
    return demand


# The main path of a demand, and who takes each step ("operator" or "officer" of the lead unit).
MAIN_PATH = [
    ("dispatched", "dispatch", "operator"),
    ("acknowledged", "acknowledge", "officer"),
    ("contacted", "contact", "officer"),
    ("in_progress", "start", "officer"),
    ("replied", "reply", "officer"),
    ("visited", "return_visit", "operator"),
    ("archived", "archive", "operator"),
]
_STEP_ARGS = {
    "contact": {"note": "电话联系了诉求人，约定上门查看。"},
    "reply": {"note": "已约谈餐馆，加装油烟净化设备，经回访油烟问题已解决。"},
    "return_visit": {"resolution": "resolved", "satisfaction": "satisfied"},
}


def demand_in_state(state: str, *, operator: User, officer: User, street_code: str, **data) -> Demand:
    """A hotline demand walked through the services to `state` on the main path (received,
    dispatched, acknowledged, contacted, in_progress, replied, visited, archived), led by
    `street_code`, whose steps `officer` (a user of that unit) takes."""
    demand = new_demand(operator, **data)
    actors = {"operator": operator, "officer": officer}
    for target, name, who in MAIN_PATH:
        if demand.state == state:
            break
        kwargs = dict(_STEP_ARGS.get(name, {}))
        if name == "dispatch":
            kwargs["lead_unit"] = unit(street_code).pk
        demand = transition(demand, name, actors[who], **kwargs)
        demand.refresh_from_db()
        assert demand.state == target, (name, demand.state)
    assert demand.state == state, f"{state} is not on the main path"
    return demand


def street_and_community(street_code=LUGOUQIAO):
    street = OrgUnit.objects.get(code=street_code)
    return street, street.children.order_by("path").first()


def other_community(street):
    return OrgUnit.objects.filter(kind__in=["community", "village"]).exclude(parent=street).first()


def station_demand(actor=None, **overrides) -> Demand:
    """A demand filed on the citizen portal (卢沟桥, first community)."""
    street, community = street_and_community()
    data = {
        "demand_type": "complaint",
        "title": "楼下餐馆油烟扰民",
        "content": "每天晚上油烟很大，窗户都不能开。",
        "street": street,
        "community": community,
        "address": "卢沟桥南里3号楼",
        "requester_name": "韩梅梅",
        "requester_phone": "13912345678",
        "channel": "web",
    }
    data.update(overrides)
    demand, _ = services.create_demand(data, actor=actor)
    return demand


def station_replied_demand(users, *, by_citizen=True) -> Demand:
    """A portal demand walked through dispatch → acknowledge → contact → reply (lead: 卢沟桥街道)."""
    demand = station_demand(actor=users["citizen"] if by_citizen else None)
    lead = OrgUnit.objects.get(code=LUGOUQIAO)
    services.transition(demand, "dispatch", users["dispatcher"], lead_unit=lead)
    officer = users["lugouqiao"]
    services.transition(demand, "acknowledge", officer)
    services.transition(demand, "contact", officer, note="电话联系了诉求人韩梅梅，约定上门。")
    services.transition(demand, "reply", officer, note="已约谈餐馆，加装油烟净化设备，经回访油烟问题已解决。")
    demand.refresh_from_db()
    return demand


def purge_demands() -> None:
    """Test-only: empty the demand tables with raw SQL. The application never deletes a demand or
    its history (`RecordIsPermanent`); a test that must start again from no demands uses this."""
    from django.db import connection

    models = [rel.related_model for rel in Demand._meta.related_objects] + [Demand]
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


# --- uploads ----------------------------------------------------------------------------------


def png_bytes(padding: int = 0) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x00\xff\x00\x00"
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw))
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"tEXt", b"c\x00" + b"x" * padding) + chunk(b"IEND", b"")


def png_upload(name="photo.png", padding=0):
    return SimpleUploadedFile(name, png_bytes(padding), content_type="image/png")


# --- the small hand-made world (engine tests) -------------------------------------------------


@dataclass
class SmallWorld:
    district: OrgUnit
    centre: OrgUnit
    lugouqiao: OrgUnit
    changxindian: OrgUnit
    community_lgq: OrgUnit
    community_cxd: OrgUnit
    department: OrgUnit
    department2: OrgUnit
    dispatcher: User
    officer_lgq: User
    officer_cxd: User
    officer_dept: User
    officer_dept2: User
    leadership: User
    citizen: User
    category: Category

    def demand(self, *, actor=None, received_at=None, **overrides) -> Demand:
        """A noise complaint in 卢沟桥社区, received by the dispatcher (or `actor`)."""
        data = {
            "demand_type": "complaint",
            "title": "夜间施工噪音扰民",
            "content": "小区旁工地每天夜里十一点以后还在施工，噪音很大，影响休息。",
            "requester_name": "张三",
            "requester_phone": "13800000001",
            "address": "卢沟桥街道卢沟桥社区1号楼",
            "street": self.lugouqiao,
            "community": self.community_lgq,
            "category": self.category,
        }
        data.update(overrides)
        demand, _ = create_demand(data, actor=actor or self.dispatcher, received_at=received_at)
        return demand


def build_world(calendar_years=(2025, 2026, 2027)) -> SmallWorld:
    seed_from_chinese_calendar(list(calendar_years))
    calendar_changed()
    district = make_unit("110106", "丰台区", UnitKind.DISTRICT)
    centre = make_unit("110106C00", "丰台区接诉即办中心", UnitKind.CENTRE, district)
    lgq = make_unit("110106017", "卢沟桥街道", UnitKind.STREET, district)
    cxd = make_unit("110106011", "长辛店街道", UnitKind.STREET, district)
    c_lgq = make_unit("110106017001", "卢沟桥社区", UnitKind.COMMUNITY, lgq)
    c_cxd = make_unit("110106011001", "长辛店社区", UnitKind.COMMUNITY, cxd)
    dept = make_unit("110106D01", "丰台区城市管理委员会", UnitKind.DEPARTMENT, district)
    dept2 = make_unit("110106D02", "丰台区住房和城乡建设委员会", UnitKind.DEPARTMENT, district)
    category = Category.objects.filter(level=3).first()
    return SmallWorld(
        district=district,
        centre=centre,
        lugouqiao=lgq,
        changxindian=cxd,
        community_lgq=c_lgq,
        community_cxd=c_cxd,
        department=dept,
        department2=dept2,
        dispatcher=make_user("dispatcher", Role.OPERATOR, centre),
        officer_lgq=make_user("lgq", Role.OFFICER, lgq),
        officer_cxd=make_user("cxd", Role.OFFICER, cxd),
        officer_dept=make_user("dept", Role.OFFICER, dept),
        officer_dept2=make_user("dept2", Role.OFFICER, dept2),
        leadership=make_user("leader", Role.LEADERSHIP, district),
        citizen=make_user("citizen", Role.CITIZEN),
        category=category,
    )


# --- the real divisions, demands placed in time (三率, rankings) --------------------------------


class FengtaiWorld:
    """Divisions, the official 2024–2026 calendar, one operator and one officer per unit used."""

    def __init__(self):
        load_divisions()
        seed_from_chinese_calendar([2024, 2025, 2026])
        self.units = {u.code: u for u in OrgUnit.objects.all()}
        self.operator = User.objects.create_user(
            "op", password="pw", role=Role.OPERATOR, unit=self.units[CENTRE]
        )
        self.admin = User.objects.create_user(
            "adm", password="pw", role=Role.ADMIN, unit=self.units[DISTRICT]
        )
        self.leader = User.objects.create_user(
            "boss", password="pw", role=Role.LEADERSHIP, unit=self.units[DISTRICT]
        )
        self.citizen = User.objects.create_user("citizen", password="pw", role=Role.CITIZEN)
        self.officers = {
            code: User.objects.create_user(
                f"officer{code}", password="pw", role=Role.OFFICER, unit=self.units[code]
            )
            for code in (LUGOUQIAO, CHANGXINDIAN, FENGTAI, WANGZUO, CHENGGUAN, ZHUJIAN)
        }

    def unit(self, code: str) -> OrgUnit:
        return self.units[code]

    def officer(self, code: str) -> User:
        return self.officers[code]

    def new(self, received: dt.datetime, *, street=LUGOUQIAO, demand_type="complaint", **extra) -> Demand:
        data = {
            "demand_type": demand_type,
            "title": extra.pop("title", "路灯不亮"),
            "content": extra.pop("content", "小区门口路灯坏了三天"),
            "requester_name": extra.pop("requester_name", "张三丰"),
            "requester_phone": extra.pop("requester_phone", f"1381234{next(_phones):04d}"),
            "street": self.units[street],
            **extra,
        }
        demand, _ = create_demand(data, actor=self.operator, received_at=received)
        return demand

    def dispatch(self, demand, unit_code: str, when: dt.datetime) -> Demand:
        return transition(demand, "dispatch", self.operator, now=when, lead_unit=self.units[unit_code])

    def handle(
        self,
        demand,
        unit_code: str,
        dispatched: dt.datetime,
        *,
        contact_after: dt.timedelta | None = dt.timedelta(hours=3),
        resolution: str | None = None,
        satisfaction: str | None = None,
    ) -> Demand:
        """Dispatched at `dispatched`, acknowledged, contacted `contact_after` later, replied, visited."""
        officer = self.officers[unit_code]
        if demand.state == "received":
            self.dispatch(demand, unit_code, dispatched)
        demand.refresh_from_db()
        if demand.state == "dispatched":
            transition(demand, "acknowledge", officer, now=dispatched + dt.timedelta(minutes=10))
        if contact_after is None:
            return demand
        contacted = dispatched + contact_after
        transition(demand, "contact", officer, note="电话联系", now=contacted)
        if resolution is None and satisfaction is None:
            return demand
        transition(demand, "reply", officer, note="已维修", now=contacted + dt.timedelta(hours=1))
        if satisfaction == "unrated":
            for n in range(3):
                transition(
                    demand, "visit_attempt", self.operator, now=contacted + dt.timedelta(days=1, hours=n)
                )
        else:
            transition(
                demand,
                "return_visit",
                self.operator,
                now=contacted + dt.timedelta(days=1),
                resolution=resolution,
                satisfaction=satisfaction,
            )
        demand.refresh_from_db()
        return demand


# --- the party wing (先锋者) ------------------------------------------------------------------


def party_organisation(
    unit_code: str, name: str | None = None, *, kind="branch", field="community", parent=None
):
    """A party organisation hung off the unit `unit_code`, through the service."""
    from changxin.pioneers.services import create_organisation

    target = unit(unit_code)
    return create_organisation(
        name=name or f"{target.name}党支部", kind=kind, field=field, unit=target, parent=parent
    )


def party_member(organisation, name="党员甲", *, user=None, secretary=False, status="full", **fields):
    """A member of `organisation` (optionally linked to a login, optionally its secretary)."""
    from changxin.pioneers.services import add_member

    return add_member(organisation, name=name, user=user, is_secretary=secretary, status=status, **fields)


def hot_spot_in(street_code: str, *, label: str = "晓月苑小区停车难", demands=(), as_of=None, **fields):
    """A stored hot spot of a street (as the hourly job writes them), for pages and permissions;
    the job itself is `insight.services.refresh_hot_spots`."""
    from django.utils import timezone

    from changxin.insight.models import HotSpot

    as_of = as_of or timezone.localdate()
    values = {
        "period_start": as_of - dt.timedelta(days=29),
        "number": HotSpot.objects.filter(as_of=as_of).count() + 1,
        "heat": 30.0,
        "demand_count": len(demands) or 3,
        "requester_count": len(demands) or 3,
        "recent_count": 2,
        "prior_count": 1,
        "first_day": as_of - dt.timedelta(days=9),
        "last_day": as_of,
        "daily": {as_of.isoformat(): 2, (as_of - dt.timedelta(days=9)).isoformat(): 1},
        "cell_observed": 5,
        "cell_expected": 1.5,
        "cell_cusum": 2.1,
        "computed_at": timezone.now(),
        **fields,
    }
    spot = HotSpot.objects.create(as_of=as_of, street=unit(street_code), label=label, **values)
    spot.demands.set(demands)
    return spot


# --- 未诉先办 and 每月一题 (insight/proactive.py, insight/monthly.py) ---------------------------------


def _proactive_lead(unit_code: str) -> OrgUnit:
    """The unit itself when a proactive task can be dispatched to it, else 卢沟桥街道."""
    from changxin.core import roles

    target = unit(unit_code)
    return target if target.kind in roles.DISPATCHABLE_KINDS else unit(LUGOUQIAO)


def proactive_task_in(unit_code: str, *, spot=None, actor=None, **kwargs):
    """A proactive task made by the centre from a hot spot of `unit_code`, dispatched to that unit
    (or to 卢沟桥 when the unit takes no demands), through insight.proactive.create_task."""
    from changxin.insight import proactive

    actor = actor or User.objects.get(username="dispatcher")
    spot = spot or hot_spot_in(unit_code)
    return proactive.create_task(actor, spot, unit=kwargs.pop("unit", _proactive_lead(unit_code)), **kwargs)


def monthly_problem_in(unit_code: str, *, month=None, actor=None, **kwargs):
    """A proposed problem of the month led by `unit_code` (or 卢沟桥), from a hot spot of that unit."""
    from django.utils import timezone

    from changxin.insight import monthly

    actor = actor or User.objects.get(username="dispatcher")
    return monthly.propose(
        actor,
        kwargs.pop("spot", None) or hot_spot_in(unit_code),
        month=month or timezone.localdate().replace(day=1),
        lead_unit=kwargs.pop("lead_unit", _proactive_lead(unit_code)),
        **kwargs,
    )


def certified_inspector(username="inspector", unit_code="110106D03", *, number=None, days=365):
    """An inspector (the demo login of that name, or a new one in `unit_code`) holding a
    law-enforcement certificate valid from a year ago for `days` days more (一码检查)."""
    from django.utils import timezone

    from changxin.port.inspections import issue_certificate

    user = User.objects.filter(username=username).first() or make_user(
        username, Role.INSPECTOR, unit(unit_code)
    )
    today = timezone.localdate()
    issue_certificate(
        user,
        number=number or f"京执{unit_code}{user.pk:04d}",
        valid_from=today - dt.timedelta(days=365),
        valid_until=today + dt.timedelta(days=days),
    )
    return user

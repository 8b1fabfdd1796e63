"""Builders: demands placed in time through the real services (create_demand + transition with now=)."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from changxin.core.divisions import load_divisions
from changxin.core.models import OrgUnit, Role, User
from changxin.core.workcalendar import seed_from_chinese_calendar
from changxin.demands.models import Demand
from changxin.demands.services import create_demand, transition

TZ = ZoneInfo("Asia/Shanghai")
_phones = itertools.count(1000)

# Units used by the tests (codes from the real Fengtai data).
LUGOUQIAO, CHANGXINDIAN, FENGTAI, WANGZUO, CHENGGUAN, ZHUJIAN = (
    "110106017",
    "110106011",
    "110106009",
    "110106101",
    "110106D01",
    "110106D02",
)


def at(day: int, hour: int = 10, minute: int = 0, month: int = 3, year: int = 2025) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


class World:
    """Divisions, the official 2024–2026 calendar, one operator and one officer per unit used."""

    def __init__(self):
        load_divisions()
        seed_from_chinese_calendar([2024, 2025, 2026])
        self.units = {u.code: u for u in OrgUnit.objects.all()}
        self.operator = User.objects.create_user(
            "op", password="pw", role=Role.OPERATOR, unit=self.units["110106C00"]
        )
        self.admin = User.objects.create_user(
            "adm", password="pw", role=Role.ADMIN, unit=self.units["110106"]
        )
        self.leader = User.objects.create_user(
            "boss", password="pw", role=Role.LEADERSHIP, unit=self.units["110106"]
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

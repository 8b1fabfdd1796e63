"""Builders for demand tests: a small real-shaped org tree, users per role, the official calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from changxin.core.models import OrgUnit, Role, UnitKind, User
from changxin.core.workcalendar import calendar_changed, seed_from_chinese_calendar
from changxin.demands.models import Category
from changxin.demands.services import create_demand

TZ = ZoneInfo("Asia/Shanghai")


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


@dataclass
class World:
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


def unit(code, name, kind, parent=None) -> OrgUnit:
    return OrgUnit.objects.create(code=code, name=name, kind=kind, parent=parent)


def user(username, role, unit=None) -> User:
    return User.objects.create_user(username=username, password="pw-for-tests", role=role, unit=unit)


def build_world(calendar_years=(2025, 2026, 2027)) -> World:
    seed_from_chinese_calendar(list(calendar_years))
    calendar_changed()
    district = unit("110106", "丰台区", UnitKind.DISTRICT)
    centre = unit("110106C00", "丰台区接诉即办中心", UnitKind.CENTRE, district)
    lgq = unit("110106017", "卢沟桥街道", UnitKind.STREET, district)
    cxd = unit("110106011", "长辛店街道", UnitKind.STREET, district)
    c_lgq = unit("110106017001", "卢沟桥社区", UnitKind.COMMUNITY, lgq)
    c_cxd = unit("110106011001", "长辛店社区", UnitKind.COMMUNITY, cxd)
    dept = unit("110106D01", "丰台区城市管理委员会", UnitKind.DEPARTMENT, district)
    dept2 = unit("110106D02", "丰台区住房和城乡建设委员会", UnitKind.DEPARTMENT, district)
    category = Category.objects.filter(level=3).first()
    return World(
        district=district,
        centre=centre,
        lugouqiao=lgq,
        changxindian=cxd,
        community_lgq=c_lgq,
        community_cxd=c_cxd,
        department=dept,
        department2=dept2,
        dispatcher=user("dispatcher", Role.OPERATOR, centre),
        officer_lgq=user("lgq", Role.OFFICER, lgq),
        officer_cxd=user("cxd", Role.OFFICER, cxd),
        officer_dept=user("dept", Role.OFFICER, dept),
        officer_dept2=user("dept2", Role.OFFICER, dept2),
        leadership=user("leader", Role.LEADERSHIP, district),
        citizen=user("citizen", Role.CITIZEN),
        category=category,
    )


def new_demand(world: World, *, actor=None, received_at=None, **overrides):
    data = {
        "demand_type": "complaint",
        "title": "夜间施工噪音扰民",
        "content": "小区旁工地每天夜里十一点以后还在施工，噪音很大，影响休息。",
        "requester_name": "张三",
        "requester_phone": "13800000001",
        "address": "卢沟桥街道卢沟桥社区1号楼",
        "street": world.lugouqiao,
        "community": world.community_lgq,
        "category": world.category,
    }
    data.update(overrides)
    demand, _ = create_demand(data, actor=actor or world.dispatcher, received_at=received_at)
    return demand

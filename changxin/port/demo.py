"""先丰港 demo: enterprises across the 4+4 zones (valid credit codes), the demo `enterprise` login
linked to the first, the demo `manager` as service manager of several, enterprise demands in
several states and visits — all through the wing's services and the demand engine."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from changxin.core import roles
from changxin.core.demodata import demo_data
from changxin.core.models import OrgUnit, User
from changxin.demands import services as demand_services
from changxin.port import services
from changxin.port.models import Enterprise

FLAGS = ("is_key", "is_specialised", "is_high_tech", "is_listed")


def _say(stdout, text):
    if stdout is not None:
        stdout.write(text)


@transaction.atomic
def load_demo(stdout=None) -> list[Enterprise]:
    users = {u.username: u for u in User.objects.filter(username__in=["manager", "enterprise", "dispatcher"])}
    enterprises = []
    for row in demo_data("port", "enterprises.csv"):
        existing = Enterprise.objects.filter(credit_code=row["credit_code"]).first()
        if existing is not None:
            enterprises.append(existing)
            continue
        data = {
            "name": row["name"],
            "credit_code": row["credit_code"],
            "street": OrgUnit.objects.get(code=row["street"]),
            "zone": row["zone"],
            "industry": row["industry"],
            "size": row["size"],
            "address": row["address"],
            "contact_name": row["contact_name"],
            "contact_title": row["contact_title"],
            "contact_phone": row["contact_phone"],
            "manager": users.get(row["manager"]) if row["manager"] else None,
            **{flag: row[flag] == "1" for flag in FLAGS},
        }
        enterprises.append(services.register_enterprise(data, actor=None))
    first = enterprises[0]
    member = users.get("enterprise")
    if (
        member is not None
        and member.role == roles.Role.ENTERPRISE
        and not first.members.filter(pk=member.pk).exists()
    ):
        services.set_members(first, [member], actor=None)
        _file_demands(first, member, users.get("manager"), users.get("dispatcher"))
        _visits(enterprises, users.get("manager"))
        _projects(enterprises, users.get("manager"))
        _packages(enterprises)
        from changxin.port.inspection_demo import load_demo as load_inspections

        load_inspections(enterprises, stdout)
    _say(stdout, f"port: {len(enterprises)} enterprises")
    return enterprises


def _file_demands(enterprise, member, manager, operator) -> None:
    texts = demo_data("port", "demands.json")["enterprise_demands"]
    now = timezone.now()
    for item in texts:
        start = now - dt.timedelta(days=item["days_ago"], hours=2)
        demand, _ = services.file_enterprise_demand(
            enterprise,
            {"demand_type": item["demand_type"], "title": item["title"], "content": item["content"]},
            actor=member,
            now=start,
        )
        steps = {
            "dispatched": [],
            "in_progress": ["acknowledge", "contact", "start"],
            "replied": ["acknowledge", "contact", "start", "reply"],
            "visited": ["acknowledge", "contact", "start", "reply", "return_visit"],
        }[item["state"]]
        moment = start
        for name in steps:
            moment += dt.timedelta(hours=3)
            kwargs = {}
            actor = manager
            if name == "contact":
                kwargs["note"] = "已电话联系企业联系人，了解具体情况。"
            if name == "reply":
                kwargs["note"] = item["reply"]
            if name == "return_visit":
                actor = member
                kwargs.update(item["rating"])
            demand_services.transition(demand, name, actor, now=min(moment, now), **kwargs)


def _visits(enterprises, manager) -> None:
    if manager is None:
        return
    today = timezone.localdate()
    for item in demo_data("port", "demands.json")["visits"]:
        enterprise = enterprises[item["enterprise"]]
        if enterprise.manager_id != manager.pk:
            continue
        services.record_visit(
            enterprise,
            actor=manager,
            visited_on=today - dt.timedelta(days=item["days_ago"]),
            people_met=item["people_met"],
            raised=item["raised"],
            need={"demand_type": "help", **item["need"]} if item.get("need") else None,
        )


def _projects(enterprises, manager) -> None:
    """Projects in every stage across the zones, registered and moved stage by stage in the past,
    so the board and the 储备/开工/建成 counts of this year and last have something to show."""
    from changxin.port.models import STAGE_ORDER

    now = timezone.now()
    for item in demo_data("port", "projects.json"):
        investor = enterprises[item["investor"]] if item["investor"] is not None else None
        at = now - dt.timedelta(days=item["days_ago"])
        project = services.register_project(
            {
                "name": item["name"],
                "zone": item["zone"],
                "street": OrgUnit.objects.get(code=item["street"]),
                "amount": item["amount"],
                "enterprise": investor,
                "manager": manager,
            },
            actor=None,
            at=at,
        )
        steps = STAGE_ORDER[1 : STAGE_ORDER.index(item["stage"]) + 1]
        for i, stage in enumerate(steps, start=1):
            when = at + (now - at) * i / (len(steps) + 1)
            services.move_project(project, f"to_{stage}", manager, now=when)


def _packages(enterprises) -> None:
    """一卡三包 for the managed key enterprises: the standard items, custom items and incentives."""
    from changxin.port.models import PackageKind

    data = demo_data("port", "packages.json")
    for enterprise in enterprises:
        if enterprise.manager_id and enterprise.is_key:
            services.give_standard_package(enterprise, actor=None, titles=data["standard"])
    for kind in (PackageKind.CUSTOM, PackageKind.INCENTIVE):
        for item in data[kind]:
            enterprise = enterprises[item["enterprise"]]
            fields = {k: item[k] for k in ("title", "amount", "conditions") if k in item}
            added = services.add_package_item(enterprise, {"kind": kind, **fields}, actor=enterprise.manager)
            services.set_package_status(added, item["status"], actor=enterprise.manager)

"""先丰港 demo: enterprises across the 4+4 zones (valid credit codes), the demo `enterprise` login
linked to the first, the demo `manager` as service manager of several, enterprise demands in
several states and visits — all through the wing's services and the demand engine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

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
            "employees": int(row["employees"]) if row.get("employees") else None,
            "annual_revenue": Decimal(row["annual_revenue"]) if row.get("annual_revenue") else None,
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
        load_cooperation_demo(enterprises, users)
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


# --- 合作方向清单, 意见建议清单, policies (loaded by load_demo's last step) -----------------------


def load_cooperation_demo(enterprises, users) -> None:
    """Offers and needs, city scenarios and their matches (one sent, one connected); suggestions in
    every state; policies matched to the registry with grants granted and paid — all through the
    services in port/cooperation.py, port/suggestions.py and port/policies.py."""
    from changxin.port import cooperation
    from changxin.port.models import Match, MatchState, Scenario

    if Scenario.objects.exists():
        return
    data = demo_data("port", "cooperation.json")
    centre = users.get("dispatcher")
    member = users.get("enterprise")
    today = timezone.localdate()
    for item in data["scenarios"]:
        cooperation.publish_scenario(
            {
                "title": item["title"],
                "field": item["field"],
                "description": item["description"],
                "owner_unit": OrgUnit.objects.get(code=item["owner_unit"]),
                "deadline": today + dt.timedelta(days=item["deadline_days"]),
            },
            actor=centre,
        )
    for item in data["items"]:
        enterprise = enterprises[item["enterprise"]]
        actor = member if enterprise.members.filter(pk=getattr(member, "pk", None)).exists() else centre
        fields = {k: item[k] for k in ("kind", "title", "field", "description")}
        cooperation.post_item(enterprise, fields, actor=actor, refresh=False)
    cooperation.refresh_matches()

    # the best enterprise-to-enterprise match: sent and accepted by both (connected); the next: sent
    def answerer(enterprise):
        return enterprise.members.first() or enterprise.manager

    pairs = [
        m
        for m in Match.objects.filter(need__isnull=False).order_by("-score")
        if answerer(m.offer.enterprise) and answerer(m.need.enterprise)
    ]
    for i, match in enumerate(pairs[:2]):
        cooperation.apply_match(match, "send", centre)
        if i == 0:
            for side in (match.offer.enterprise, match.need.enterprise):
                cooperation.apply_match(match, "accept", answerer(side))
    match = Match.objects.filter(state=MatchState.PROPOSED, scenario__isnull=False).order_by("-score").first()
    if match is not None:
        cooperation.apply_match(match, "send", centre)
    _suggestions(enterprises[0], member, centre, data["suggestions"])
    _policies(centre, data["policies"])


def _suggestions(enterprise, member, centre, items) -> None:
    from changxin.port import suggestions

    if member is None or not enterprise.members.filter(pk=member.pk).exists():
        return
    start = timezone.now() - dt.timedelta(days=20)
    for n, item in enumerate(items):
        at = start + dt.timedelta(days=n)
        suggestion = suggestions.submit(
            enterprise, {"title": item["title"], "content": item["content"]}, actor=member, now=at
        )
        for i, (name, unit, note) in enumerate(item["steps"], start=1):
            actor = {"close": member}.get(name, centre)
            suggestions.move(
                suggestion,
                name,
                actor,
                unit=OrgUnit.objects.get(code=unit) if unit else None,
                note=note,
                now=at + dt.timedelta(days=2 * i),
            )
    suggestions.flag_overdue()


def _policies(centre, items) -> None:
    from changxin.port import policies

    for item in items:
        steps = item.pop("steps")
        policy = policies.register_policy(item, actor=centre)
        policies.sync_policy(policy, actor=centre)
        for grant in policy.grants.all():
            for name in steps:
                policies.move_grant(grant, name, centre)

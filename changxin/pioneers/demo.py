"""Demo party organisations, members and development cases, built through the services.

Organisations hang off real demo units (卢沟桥, 花乡, 长辛店 and their communities); members are
linked to the demo logins `lugouqiao` (secretary of the street's organ branch), `lugouqiao_lead`
and `manager` (服务管家, secretary of a 两新 branch), so the demand demo's handled demands credit
them — the ledger's subscriber catches up on the whole timeline. Development cases stand in every
stage, dated backwards from today; one step tried too early is refused with the rule named.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from changxin.core import events
from changxin.core.demodata import demo_data
from changxin.core.models import OrgUnit, User
from changxin.core.workflow import WorkflowError
from changxin.pioneers import ledger, pipeline, services
from changxin.pioneers.models import PartyMember, PartyOrganisation, PointEntry, RecordKind

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def demo_id_number(region: str, born: dt.date, serial: int) -> str:
    """A well-formed (check digit included) but invented resident ID number."""
    body = f"{region[:6]}{born:%Y%m%d}{serial % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def _organisations(data) -> dict[str, PartyOrganisation]:
    made: dict[str, PartyOrganisation] = {}
    for row in data["organisations"]:
        existing = PartyOrganisation.objects.filter(name=row["name"]).first()
        made[row["key"]] = existing or services.create_organisation(
            name=row["name"],
            kind=row["kind"],
            field=row["field"],
            unit=OrgUnit.objects.get(code=row["unit"]),
            parent=made.get(row.get("parent")),
        )
    return made


def _members(data, orgs) -> list[PartyMember]:
    members = []
    for serial, row in enumerate(data["members"], 1):
        born = dt.date.fromisoformat(row["born"])
        number = demo_id_number("110106", born, serial)
        member = PartyMember.objects.filter(id_number=number).first()
        if member is None:
            user = User.objects.filter(username=row["login"]).first() if row.get("login") else None
            member = services.add_member(
                orgs[row["org"]],
                name=row["name"],
                status=row["status"],
                gender=row["gender"],
                birth_date=born,
                id_number=number,
                phone=f"1391200{serial:04d}",
                joined_on=dt.date.fromisoformat(row["joined"]),
                posts=row.get("posts", ""),
                is_secretary=row.get("secretary", False),
                user=user,
                areas=list(OrgUnit.objects.filter(code__in=row.get("areas", []))),
            )
        members.append(member)
    return members


def _case(row, orgs, staff, today, stdout) -> None:
    org = orgs[row["org"]]
    if org.development_cases.filter(name=row["name"]).exists():
        return
    applied = today - dt.timedelta(days=row["applied_days_ago"])
    case = services.record_application(
        org,
        name=row["name"],
        gender=row["gender"],
        birth_date=dt.date.fromisoformat(row["born"]),
        applied_on=applied,
        actor=staff,
    )
    sponsors = list(org.members.filter(status="full").order_by("pk")[:2])
    day = applied
    for step in row["steps"]:
        day = min(day + dt.timedelta(days=10), today)
        if step == "talk":
            services.add_record(case, RecordKind.TALK, day, actor=staff, note="组织委员谈话")
        elif step == "training":
            services.add_record(case, RecordKind.TRAINING, day, actor=staff, note="党校积极分子培训班")
        elif step == "review":
            services.add_record(case, RecordKind.POLITICAL_REVIEW, day, actor=staff)
        elif step == "central_training":
            services.add_record(case, RecordKind.CENTRAL_TRAINING, day, actor=staff)
        elif step == "sponsors":
            for sponsor in sponsors:
                services.add_record(case, RecordKind.SPONSOR, day, actor=staff, sponsor=sponsor)
        elif step == "notice":
            services.add_record(
                case, RecordKind.PUBLIC_NOTICE, day, until=day + dt.timedelta(days=12), actor=staff
            )
            day += dt.timedelta(days=14)
        elif step in ("vote", "approval", "confirmation_vote"):
            kind = {"vote": RecordKind.BRANCH_VOTE, "approval": RecordKind.SUPERIOR_APPROVAL}.get(
                step, RecordKind.CONFIRMATION_VOTE
            )
            if kind == RecordKind.CONFIRMATION_VOTE:
                case.refresh_from_db()
                day = case.probation_ends_on
            services.add_record(case, kind, day, actor=staff)
        elif step == "early_make_target":
            try:
                services.take_step(case, "make_target", staff, on=day)
            except WorkflowError as refusal:
                if stdout is not None:
                    stdout.write(f"demo pipeline: {case.name} refused: {refusal.code}: {refusal.message}")
        else:
            case.refresh_from_db()
            if step == "make_target":
                day = max(day, pipeline.activist_ready_on(case))
            services.take_step(case, step, staff, on=day)


@transaction.atomic
def load_demo(stdout=None) -> None:
    data = demo_data("pioneers", "organisations.json")
    ledger.ensure_default_rules()
    staff = User.objects.get(username="party")
    orgs = _organisations(data)
    members = _members(data, orgs)
    today = timezone.localdate()
    for row in data["cases"]:
        _case(row, orgs, staff, today, stdout)
    from changxin.pioneers.demo_branch import load_branch_demo

    load_branch_demo(orgs, stdout)  # meetings, dues, a transfer, volunteer activities
    events.catch_up()  # the ledger catches up on the demand demo's timeline
    from changxin.pioneers.demo_commitments import load_commitments_demo

    load_commitments_demo(stdout)  # after the catch-up: a late-reply penalty to apply relief against
    events.catch_up()  # the kept commitment's points
    from changxin.pioneers.demo_honours import load_honours_demo

    load_honours_demo(orgs, stdout)  # posts, a sharing session, honours from the ranking
    if stdout is not None:
        stdout.write(
            f"demo pioneers: {len(orgs)} organisations, {len(members)} members, "
            f"{PointEntry.objects.count()} point entries from handled demands"
        )

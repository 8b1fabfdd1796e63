"""Import of party members from CSV/Excel (core/tabular.py: per-row errors by line, all or nothing
unless --keep-good). `changxin pioneers import-members FILE`.

Columns: 姓名, 性别, 出生日期, 身份证号, 手机, 状态 (正式/预备), 所在党组织 (name or id), 入党日期,
党内职务, 支部书记 (是/否), 登录账号 (an existing account's username, optional), 责任区 (community
codes separated by ; 、 or ,).
"""

from __future__ import annotations

import re

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changxin.core import audit, roles
from changxin.core.models import AuditAction, OrgUnit, User
from changxin.core.tabular import (
    CellError,
    Column,
    ImportRun,
    Parsed,
    RowError,
    boolean,
    choice,
    date,
    open_table,
    phone,
    text,
)
from changxin.pioneers import ledger
from changxin.pioneers.models import Gender, MemberStatus, PartyMember, PartyOrganisation

ID_NUMBER = re.compile(r"^\d{17}[\dX]$")


def id_number(value) -> str:
    number = str(value).strip().upper()
    if not ID_NUMBER.match(number):
        raise CellError(_("is not an 18-character resident ID number"))
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(number[:17], weights, strict=True)) % 11]
    if number[17] != check:
        raise CellError(_("has a wrong check digit"))
    return number


id_number.empty = ""

COLUMNS = [
    Column("name", ("姓名", "name"), required=True, parse=text(60), doc="Full name."),
    Column(
        "gender",
        ("性别", "gender"),
        parse=choice({Gender.MALE: ("男", "male"), Gender.FEMALE: ("女", "female")}),
    ),
    Column("birth_date", ("出生日期", "birth date"), parse=date()),
    Column("id_number", ("身份证号", "公民身份号码", "id number"), parse=id_number),
    Column("phone", ("手机", "联系电话", "phone"), parse=phone()),
    Column(
        "status",
        ("状态", "党员类型", "status"),
        required=True,
        parse=choice(
            {
                MemberStatus.FULL: ("正式", "正式党员", "full"),
                MemberStatus.PROBATIONARY: ("预备", "预备党员", "probationary"),
            }
        ),
    ),
    Column("organisation", ("所在党组织", "党组织", "organisation"), required=True, parse=text(120)),
    Column("joined_on", ("入党日期", "joined on"), parse=date()),
    Column("posts", ("党内职务", "posts"), parse=text(200)),
    Column("is_secretary", ("支部书记", "secretary"), parse=boolean(), default=False),
    Column("username", ("登录账号", "username"), parse=text(150)),
    Column("areas", ("责任区", "areas"), parse=text(500)),
]


class MemberImport:
    """Parse, check and write member rows; `run(path, keep_good=…)` returns the ImportReport."""

    def __init__(self, actor=None, *, file_name: str = ""):
        self.actor = actor
        self.file_name = file_name
        self.organisations: dict[str, PartyOrganisation] = {}
        for org in PartyOrganisation.objects.filter(is_active=True):
            self.organisations.setdefault(org.name, org)
            self.organisations[str(org.pk)] = org
        self.seen_ids: set[str] = set()
        self.seen_users: set[str] = set()

    def parse(self, row):
        org = self.organisations.get(row["organisation"])
        if org is None and row["organisation"]:
            row.error("organisation", _("no such party organisation"))
        today = timezone.localdate()
        if row["birth_date"] and row["birth_date"] > today:
            row.error("birth_date", _("is in the future"))
        if row["joined_on"] and row["birth_date"] and row["joined_on"] < row["birth_date"]:
            row.error("joined_on", _("is before the birth date"))
        if row["id_number"]:
            if row["id_number"] in self.seen_ids:
                row.error("id_number", _("appears twice in the file"))
            self.seen_ids.add(row["id_number"])
        user = None
        if row["username"]:
            user = User.objects.filter(username=row["username"], is_active=True).first()
            if user is None:
                row.error("username", _("no such account"))
            elif row["username"] in self.seen_users:
                row.error("username", _("appears twice in the file"))
            self.seen_users.add(row["username"])
        areas = []
        for code in filter(None, (c.strip() for c in re.split(r"[;；、,，\s]+", row["areas"] or ""))):
            unit = OrgUnit.objects.filter(code=code, kind__in=roles.COMMUNITY_KINDS).first()
            if unit is None:
                row.error("areas", _("%(code)s is not a community or village code") % {"code": code})
            areas.append(unit)
        if row.errors:
            return None
        member = PartyMember(
            organisation=org,
            name=row["name"],
            gender=row["gender"],
            birth_date=row["birth_date"],
            id_number=row["id_number"],
            phone=row["phone"],
            status=row["status"],
            joined_on=row["joined_on"],
            posts=row["posts"],
            is_secretary=row["is_secretary"],
            user=user,
        )
        member._areas = areas
        return member

    def check(self, batch: list[Parsed]) -> list[RowError]:
        ids = [p.value.id_number for p in batch if p.value.id_number]
        taken = set(PartyMember.objects.filter(id_number__in=ids).values_list("id_number", flat=True))
        users = [p.value.user_id for p in batch if p.value.user_id]
        linked = set(PartyMember.objects.filter(user_id__in=users).values_list("user_id", flat=True))
        problems = []
        for p in batch:
            if p.value.id_number in taken:
                problems.append(
                    RowError(p.line, "身份证号", str(_("a member with this ID number exists")), "id_number")
                )
            if p.value.user_id in linked:
                problems.append(
                    RowError(
                        p.line, "登录账号", str(_("this account is linked to another member")), "username"
                    )
                )
        return problems

    def write(self, batch: list[Parsed]) -> int:
        for p in batch:
            member = p.value
            member.save()
            if member._areas:
                member.areas.set(member._areas)
            if member.user_id:
                ledger.credit_history(member)
        return len(batch)

    def finish(self, report) -> None:
        audit.record(
            self.actor,
            AuditAction.CREATE,
            detail=f"import-members {self.file_name}: {report.written} written, {report.bad} bad rows",
        )

    def run(
        self,
        source,
        *,
        keep_good=False,
        dry_run=False,
        encoding=None,
        sheet=None,
        max_errors=50,
        on_error=None,
    ):
        with open_table(source, columns=COLUMNS, encoding=encoding, sheet=sheet) as table:
            return ImportRun(
                keep_good=keep_good, dry_run=dry_run, max_errors=max_errors, on_error=on_error
            ).run(table, parse=self.parse, check=self.check, write=self.write, finish=self.finish)

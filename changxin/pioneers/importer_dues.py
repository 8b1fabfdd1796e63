"""Import of dues bases from CSV/Excel (core/tabular.py: every bad row reported by line, all or
nothing unless --keep-good). `changxin pioneers import-dues FILE`.

Columns: 身份证号 (or 党员编号, the member's id), 姓名 (must match the member), 年度, 类别
(在职/离退休/无工资), 税后月收入. The monthly dues are computed by the brackets (dues.py), never read
from the file; a base already set for the member and year is reviewed (replaced), audited.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from changxin.core import audit
from changxin.core.models import AuditAction
from changxin.core.tabular import Column, ImportRun, choice, decimal, integer, open_table, text
from changxin.pioneers import dues
from changxin.pioneers.importer import id_number
from changxin.pioneers.models import DuesCategory, PartyMember

COLUMNS = [
    Column(
        "id_number", ("身份证号", "公民身份号码", "id number"), parse=id_number, doc="The member's ID number."
    ),
    Column("member_id", ("党员编号", "member id"), parse=integer(min_value=1), doc="Or the member's id."),
    Column("name", ("姓名", "name"), required=True, parse=text(60), doc="Must match the member."),
    Column("year", ("年度", "year"), required=True, parse=integer(min_value=2000, max_value=2100)),
    Column(
        "category",
        ("类别", "category"),
        required=True,
        parse=choice(
            {
                DuesCategory.WAGE: ("在职", "wage"),
                DuesCategory.RETIRED: ("离退休", "退休", "retired"),
                DuesCategory.LOW: ("无工资", "学生", "低保", "low"),
            }
        ),
    ),
    Column(
        "monthly_income",
        ("税后月收入", "月收入", "monthly income"),
        parse=decimal(places=2, min_value=0, max_value=10_000_000),
        doc="After-tax monthly income in yuan (empty for members without wages).",
    ),
]


class DuesImport:
    def __init__(self, actor=None, *, file_name: str = ""):
        self.actor = actor
        self.file_name = file_name
        self.seen: set[tuple[int, int]] = set()

    def parse(self, row):
        member = None
        if row["id_number"]:
            member = PartyMember.objects.filter(id_number=row["id_number"]).first()
        elif row["member_id"]:
            member = PartyMember.objects.filter(pk=row["member_id"]).first()
        else:
            row.error("id_number", _("give the ID number or the member id"))
        if member is None and (row["id_number"] or row["member_id"]):
            row.error("id_number" if row["id_number"] else "member_id", _("no such party member"))
        elif member is not None and member.name != row["name"]:
            row.error("name", _("does not match the member's name"))
        if row["category"] != DuesCategory.LOW and row["monthly_income"] is None:
            row.error("monthly_income", _("is required for members with an income"))
        if member is not None and row["year"]:
            key = (member.pk, row["year"])
            if key in self.seen:
                row.error("id_number", _("appears twice in the file for the same year"))
            self.seen.add(key)
        if row.errors:
            return None
        return (member, row["year"], row["category"], row["monthly_income"] or 0)

    def write(self, batch) -> int:
        for p in batch:
            member, year, category, income = p.value
            dues.set_base(member, year, category=category, monthly_income=income, actor=self.actor)
        return len(batch)

    def finish(self, report) -> None:
        audit.record(
            self.actor,
            AuditAction.CREATE,
            detail=f"import-dues {self.file_name}: {report.written} written, {report.bad} bad rows",
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
            ).run(table, parse=self.parse, write=self.write, finish=self.finish)

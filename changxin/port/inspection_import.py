"""Import of a department's annual inspection plan (检查计划) from CSV/Excel through core/tabular:
every bad row reported by its line, all or nothing by default. One plan item per row: the
enterprise (by its credit code), the month, the items and the legal basis."""

from __future__ import annotations

from django.utils.translation import gettext as _

from changxin.core import audit
from changxin.core.models import AuditAction, OrgUnit
from changxin.core.tabular import Column, ImportRun, RowError, integer, open_table, text
from changxin.port import uscc
from changxin.port.models import Enterprise, InspectionPlan

COLUMNS = [
    Column("year", ("年度", "年份", "year"), required=True, parse=integer(min_value=2000, max_value=2100)),
    Column("month", ("月份", "计划月份", "month"), required=True, parse=integer(min_value=1, max_value=12)),
    Column(
        "credit_code",
        ("统一社会信用代码", "信用代码", "uscc", "credit code"),
        required=True,
        parse=text(40),
        doc="The enterprise's code (it must be registered).",
    ),
    Column("items", ("检查事项", "检查内容", "items"), required=True, parse=text(300)),
    Column("legal_basis", ("法律依据", "检查依据", "legal basis"), parse=text(300)),
]


def import_plans(source, *, department: OrgUnit, actor=None, keep_good=False, dry_run=False, **table_options):
    name = getattr(source, "name", str(source))
    seen: dict[tuple, int] = {}

    def parse(row):
        code = uscc.normalise(row["credit_code"] or "")
        enterprise = None
        reason = uscc.problem(code)
        if reason:
            row.error("credit_code", reason)
        else:
            enterprise = Enterprise.objects.filter(credit_code=code, is_active=True).first()
            if enterprise is None:
                row.error("credit_code", _("no registered enterprise has this code"))
        if row.errors:
            return None
        key = (row["year"], row["month"], enterprise.pk)
        if key in seen:
            row.error("credit_code", _("repeats line %(line)s") % {"line": seen[key]})
            return None
        seen[key] = row.line
        return InspectionPlan(
            department=department,
            year=row["year"],
            month=row["month"],
            enterprise=enterprise,
            items=row["items"],
            legal_basis=row["legal_basis"] or "",
        )

    def check(batch):
        taken = set(
            InspectionPlan.objects.filter(
                department=department, enterprise__in=[p.value.enterprise_id for p in batch]
            ).values_list("year", "month", "enterprise")
        )
        return [
            RowError(p.line, "统一社会信用代码", _("already in the plan for that month"), "credit_code")
            for p in batch
            if (p.value.year, p.value.month, p.value.enterprise_id) in taken
        ]

    def write(batch):
        return len(InspectionPlan.objects.bulk_create([p.value for p in batch]))

    def finish(report):
        if report.written and not report.dry_run:
            audit.record(
                actor,
                AuditAction.CREATE,
                department,
                detail=f"port.inspection_plans {name}: {report.written}",
            )

    with open_table(source, columns=COLUMNS, **table_options) as table:
        return ImportRun(keep_good=keep_good, dry_run=dry_run).run(
            table, parse=parse, check=check, write=write, finish=finish
        )

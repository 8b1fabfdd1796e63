"""Import of brands from CSV/Excel (core/tabular.py: every bad row reported by line, all or nothing
unless --keep-good). `changxin brands import FILE`. Imported brands start as drafts; they are
submitted and published on the machine like any other.

Columns: 品牌名称, 领域 (治理/教育/卫健/两新/志愿/平安/生态/服务企业), 所属党组织 (name or id),
街乡镇 (code or name; empty: the organisation's), 口号, 简介.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from changxin.brands import services
from changxin.brands.models import Brand, BrandField
from changxin.core import audit, roles
from changxin.core.errors import DomainError
from changxin.core.models import AuditAction, OrgUnit
from changxin.core.tabular import Column, ImportRun, Parsed, RowError, choice, open_table, text
from changxin.pioneers.models import PartyOrganisation

FIELDS = {
    BrandField.GOVERNANCE: ("治理", "治理先锋", "governance"),
    BrandField.EDUCATION: ("教育", "教育先锋", "education"),
    BrandField.HEALTH: ("卫健", "卫健先锋", "health"),
    BrandField.NEW_SECTORS: ("两新", '"两新"先锋', "两新先锋", "new_sectors"),
    BrandField.VOLUNTEER: ("志愿", "志愿先锋", "volunteer"),
    BrandField.SAFETY: ("平安", "平安先锋", "safety"),
    BrandField.ECOLOGY: ("生态", "生态先锋", "ecology"),
    BrandField.ENTERPRISE: ("服务企业", "服务企业先锋", "enterprise"),
}

COLUMNS = [
    Column("name", ("品牌名称", "name"), required=True, parse=text(60), doc="Unique brand name."),
    Column("field", ("领域", "field"), required=True, parse=choice(FIELDS)),
    Column("owner", ("所属党组织", "党组织", "owner"), required=True, parse=text(120)),
    Column("street", ("街乡镇", "street"), parse=text(60)),
    Column("slogan", ("口号", "slogan"), parse=text(80)),
    Column("description", ("简介", "description"), required=True, parse=text(4000)),
]


class BrandImport:
    def __init__(self, actor=None, *, file_name: str = ""):
        self.actor = actor
        self.file_name = file_name
        self.organisations: dict[str, PartyOrganisation] = {}
        for org in PartyOrganisation.objects.filter(is_active=True).select_related("unit"):
            self.organisations.setdefault(org.name, org)
            self.organisations[str(org.pk)] = org
        self.streets: dict[str, OrgUnit] = {}
        for unit in OrgUnit.objects.filter(kind__in=roles.STREET_LEVEL_KINDS):
            self.streets[unit.code] = unit
            self.streets.setdefault(unit.name, unit)
        self.seen: set[str] = set()

    def parse(self, row):
        owner = self.organisations.get(row["owner"])
        if owner is None and row["owner"]:
            row.error("owner", _("no such party organisation"))
        street = None
        if row["street"]:
            street = self.streets.get(row["street"])
            if street is None:
                row.error("street", _("is not a street or town (code or name)"))
        elif owner is not None and owner.unit.street() is None:
            row.error("street", _("is required: the organisation is not in a street or town"))
        if row["name"]:
            if row["name"] in self.seen:
                row.error("name", _("appears twice in the file"))
            self.seen.add(row["name"])
        if row.errors:
            return None
        return {
            "owner": owner,
            "name": row["name"],
            "field": row["field"],
            "street": street,
            "slogan": row["slogan"],
            "description": row["description"],
        }

    def check(self, batch: list[Parsed]) -> list[RowError]:
        taken = set(
            Brand.objects.filter(name__in=[p.value["name"] for p in batch]).values_list("name", flat=True)
        )
        return [
            RowError(p.line, "品牌名称", str(_("a brand with this name exists")), "name")
            for p in batch
            if p.value["name"] in taken
        ]

    def write(self, batch: list[Parsed]) -> int:
        for p in batch:
            try:
                services.create_brand(actor=self.actor, **p.value)
            except DomainError as exc:  # pragma: no cover - parse and check catch these first
                raise RuntimeError(f"line {p.line}: {exc.message}") from exc
        return len(batch)

    def finish(self, report) -> None:
        audit.record(
            self.actor,
            AuditAction.CREATE,
            detail=f"import-brands {self.file_name}: {report.written} written, {report.bad} bad rows",
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

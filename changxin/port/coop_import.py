"""Imports of city application scenarios and policies from CSV/Excel through core/tabular: every
bad row reported by line, all or nothing by default (--keep-good), each row written through the
same rules as `cooperation.publish_scenario` / `policies.register_policy`."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from changxin.core import audit, roles
from changxin.core.models import AuditAction, OrgUnit
from changxin.core.tabular import (
    Column,
    ImportRun,
    _parser,
    boolean,
    choice,
    date,
    decimal,
    integer,
    open_table,
    text,
)
from changxin.port.models import Flag, Policy, Scenario, Size, Zone

SEPARATORS = re.compile(r"[、,，;；/|\n]+")


def several(options):
    """A list of `options` in one cell, separated by 、 , ; or /; an unknown part names itself."""
    one = choice(options)

    def parse(value) -> list[str]:
        out = []
        for part in SEPARATORS.split(str(value)):
            if part.strip():
                out.append(one(part.strip()))
        return list(dict.fromkeys(out))

    return _parser(parse, [])


def words(value) -> list[str]:
    return [p.strip() for p in SEPARATORS.split(str(value)) if p.strip()]


FLAG_NAMES = {
    Flag.KEY: ("重点", "重点企业"),
    Flag.SPECIALISED: ("专精特新",),
    Flag.HIGH_TECH: ("高新", "高新技术企业"),
    Flag.LISTED: ("上市", "上市企业"),
}

SCENARIO_COLUMNS = [
    Column("title", ("场景名称", "标题", "title"), required=True, parse=text(120)),
    Column("field", ("领域", "所属领域", "field"), parse=text(60)),
    Column("description", ("场景描述", "描述", "description"), required=True, parse=text(3000)),
    Column(
        "owner_unit",
        ("责任单位", "发布单位", "owner unit"),
        required=True,
        parse=text(100),
        doc="A street, town or department by name, short name or code.",
    ),
    Column("deadline", ("截止日期", "deadline"), parse=date()),
]

POLICY_COLUMNS = [
    Column("title", ("政策名称", "标题", "title"), required=True, parse=text(160)),
    Column("issuer", ("发布单位", "issuer"), required=True, parse=text(120)),
    Column("summary", ("摘要", "政策摘要", "summary"), parse=text(3000)),
    Column("industries", ("行业", "适用行业", "industries"), parse=_parser(words, []), doc="Separated by 、"),
    Column("sizes", ("企业规模", "规模", "sizes"), parse=several(Size)),
    Column("zones", ("功能区", "zones"), parse=several(Zone)),
    Column(
        "flags", ("企业资质", "条件", "flags"), parse=several(FLAG_NAMES), doc="重点、专精特新、高新、上市"
    ),
    Column("amount", ("金额", "金额（万元）", "amount"), parse=decimal(min_value=0, max_value=10**9)),
    Column(
        "min_employees",
        ("从业人数下限", "最少从业人数", "min employees"),
        parse=integer(min_value=0, max_value=10**7),
    ),
    Column(
        "max_employees",
        ("从业人数上限", "最多从业人数", "max employees"),
        parse=integer(min_value=0, max_value=10**7),
    ),
    Column(
        "min_revenue",
        ("营业收入下限（万元）", "营业收入下限", "min revenue"),
        parse=decimal(places=2, min_value=0, max_value=10**11),
    ),
    Column(
        "max_revenue",
        ("营业收入上限（万元）", "营业收入上限", "max revenue"),
        parse=decimal(places=2, min_value=0, max_value=10**11),
    ),
    Column("without_application", ("免申即享", "without application"), parse=boolean(), default=True),
    Column("valid_until", ("有效期至", "valid until"), parse=date()),
]


def _units() -> dict[str, OrgUnit]:
    index = {}
    for unit in OrgUnit.objects.filter(kind__in=roles.DISPATCHABLE_KINDS, is_active=True):
        for key in {unit.code, unit.name, unit.short_name} - {""}:
            index[key] = unit
    return index


def _run(source, columns, build, model, label, *, actor, keep_good, dry_run, encoding, sheet, max_errors):
    names = {c.name for c in columns}

    def parse(row):
        obj = build(row)
        if row.errors or obj is None:
            return None
        try:
            obj.full_clean(exclude=["published_by"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    row.error(field if field in names else "title", message)
            return None
        return obj

    def write(batch):
        return len(model.objects.bulk_create([p.value for p in batch]))

    def finish(report):
        if report.written and not report.dry_run:
            audit.record(actor, AuditAction.CREATE, None, detail=f"port.{label} import: {report.written}")

    with open_table(source, columns=columns, encoding=encoding, sheet=sheet) as table:
        return ImportRun(keep_good=keep_good, dry_run=dry_run, max_errors=max_errors).run(
            table, parse=parse, write=write, finish=finish
        )


def import_scenarios(
    source, *, actor=None, keep_good=False, dry_run=False, encoding=None, sheet=None, max_errors=200
):
    units = _units()

    def build(row):
        unit = units.get(row["owner_unit"])
        if unit is None:
            row.error(
                "owner_unit",
                _("“%(value)s” is not a street, town or department") % {"value": row["owner_unit"]},
            )
            return None
        return Scenario(
            title=row["title"],
            field=row["field"],
            description=row["description"],
            owner_unit=unit,
            deadline=row["deadline"],
            published_by=actor,
        )

    report = _run(
        source,
        SCENARIO_COLUMNS,
        build,
        Scenario,
        "scenario",
        actor=actor,
        keep_good=keep_good,
        dry_run=dry_run,
        encoding=encoding,
        sheet=sheet,
        max_errors=max_errors,
    )
    if report.written and not report.dry_run:
        from changxin.port.cooperation import refresh_matches

        refresh_matches()
    return report


def import_policies(
    source, *, actor=None, keep_good=False, dry_run=False, encoding=None, sheet=None, max_errors=200
):
    def build(row):
        return Policy(**{c.name: row[c.name] for c in POLICY_COLUMNS})

    return _run(
        source,
        POLICY_COLUMNS,
        build,
        Policy,
        "policy",
        actor=actor,
        keep_good=keep_good,
        dry_run=dry_run,
        encoding=encoding,
        sheet=sheet,
        max_errors=max_errors,
    )

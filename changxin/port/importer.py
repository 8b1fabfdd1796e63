"""Import of the enterprise registry from CSV/Excel through core/tabular (per-row errors by line,
all or nothing by default, --keep-good). Each enterprise is registered through the same rules as
`services.register_enterprise`; one event per enterprise and one audit entry for the file."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from changxin.core import audit, roles
from changxin.core.models import AuditAction, OrgUnit, User
from changxin.core.tabular import (
    Column,
    ImportRun,
    RowError,
    boolean,
    choice,
    decimal,
    integer,
    open_table,
    phone,
    text,
)
from changxin.port import uscc
from changxin.port.models import Enterprise, EnterpriseEvent, Size, Zone

COLUMNS = [
    Column(
        "name", ("企业名称", "enterprise", "company"), required=True, parse=text(120), doc="Registered name."
    ),
    Column(
        "credit_code",
        ("统一社会信用代码", "信用代码", "uscc", "credit code"),
        required=True,
        parse=text(40),
        doc="18 characters, checked by its check character (GB 32100-2015).",
    ),
    Column(
        "street",
        ("所属街乡镇", "街道", "乡镇", "street/town"),
        required=True,
        parse=text(100),
        doc="Street/town by name (卢沟桥街道, 卢沟桥) or code (110106017).",
    ),
    Column(
        "zone", ("功能区", "功能组团", "functional zone"), parse=choice(Zone), doc="One of the 4+4 zones."
    ),
    Column("industry", ("行业", "所属行业"), parse=text(60)),
    Column(
        "size",
        ("企业规模", "规模", "scale"),
        parse=choice(
            {
                Size.LARGE: ("大型", "大"),
                Size.MEDIUM: ("中型", "中"),
                Size.SMALL: ("小型", "小"),
                Size.MICRO: ("微型", "小微", "微"),
            }
        ),
        default=Size.SMALL,
    ),
    Column("address", ("地址", "注册地址", "经营地址"), parse=text(200)),
    Column("contact_name", ("联系人", "contact"), parse=text(60)),
    Column("contact_phone", ("联系电话", "电话", "phone"), parse=phone()),
    Column("is_key", ("重点企业", "重点", "key"), parse=boolean(), default=False),
    Column("is_specialised", ("专精特新", "specialised"), parse=boolean(), default=False),
    Column("is_high_tech", ("高新技术企业", "高新", "high tech"), parse=boolean(), default=False),
    Column("is_listed", ("上市企业", "上市", "listed"), parse=boolean(), default=False),
    Column(
        "employees",
        ("从业人数", "员工人数", "employees"),
        parse=integer(min_value=0, max_value=10_000_000),
        doc="Optional; a whole number, 0 or more.",
    ),
    Column(
        "annual_revenue",
        ("年营业收入（万元）", "营业收入（万元）", "年营业收入", "营业收入", "annual revenue"),
        parse=decimal(places=2, min_value=0, max_value=10**11),
        doc="Optional; 10,000 yuan, 0 or more.",
    ),
    Column(
        "manager",
        ("服务管家", "服务管家账号", "service manager"),
        parse=text(150),
        doc="The service manager's username (role service_manager).",
    ),
]

COLUMN_NAMES = {c.name for c in COLUMNS}


def _street_index() -> dict[str, OrgUnit]:
    index = {}
    for unit in OrgUnit.objects.filter(kind__in=roles.STREET_LEVEL_KINDS, is_active=True):
        for key in {unit.code, unit.name, unit.short_name} - {""}:
            index[key] = unit
        for suffix in ("街道", "地区", "镇", "乡"):
            if unit.name.endswith(suffix):
                index.setdefault(unit.name[: -len(suffix)], unit)
    return index


def import_enterprises(
    source,
    *,
    actor=None,
    keep_good=False,
    dry_run=False,
    encoding=None,
    sheet=None,
    max_errors=200,
    on_error=None,
):
    streets = _street_index()
    managers = {u.username: u for u in User.objects.filter(role=roles.Role.SERVICE_MANAGER, is_active=True)}
    seen: dict[str, int] = {}
    name = getattr(source, "name", str(source))

    def parse(row):
        code = uscc.normalise(row["credit_code"])
        reason = uscc.problem(code)
        if reason:
            row.error("credit_code", reason)
        elif code in seen:
            row.error("credit_code", _("repeats line %(line)s") % {"line": seen[code]})
        else:
            seen[code] = row.line
        street = streets.get(row["street"])
        if street is None and row["street"]:
            row.error(
                "street", _("“%(value)s” is not a street or town of the district") % {"value": row["street"]}
            )
        manager = None
        if row["manager"]:
            manager = managers.get(row["manager"])
            if manager is None:
                row.error(
                    "manager", _("“%(value)s” is not an active service manager") % {"value": row["manager"]}
                )
        if row.errors:
            return None
        enterprise = Enterprise(
            name=row["name"],
            credit_code=code,
            street=street,
            zone=row["zone"],
            industry=row["industry"],
            size=row["size"] or Size.SMALL,
            address=row["address"],
            contact_name=row["contact_name"],
            contact_phone=row["contact_phone"],
            is_key=row["is_key"],
            is_specialised=row["is_specialised"],
            is_high_tech=row["is_high_tech"],
            is_listed=row["is_listed"],
            employees=row["employees"],
            annual_revenue=row["annual_revenue"],
            manager=manager,
        )
        try:
            enterprise.full_clean(exclude=["public_code", "credit_code"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    row.error(field if field in COLUMN_NAMES else "name", message)
            return None
        return enterprise

    def check(batch):
        taken = set(
            Enterprise.objects.filter(credit_code__in=[p.value.credit_code for p in batch]).values_list(
                "credit_code", flat=True
            )
        )
        return [
            RowError(p.line, "统一社会信用代码", _("already registered"), "credit_code")
            for p in batch
            if p.value.credit_code in taken
        ]

    def write(batch):
        created = Enterprise.objects.bulk_create([p.value for p in batch])
        # bulk_create sets primary keys on PostgreSQL and SQLite ≥ 3.35; look them up to be sure
        by_code = dict(
            Enterprise.objects.filter(credit_code__in=[e.credit_code for e in created]).values_list(
                "credit_code", "pk"
            )
        )
        now = timezone.now()
        actor_name = actor.get_username() if actor else "import"
        EnterpriseEvent.objects.bulk_create(
            EnterpriseEvent(
                enterprise_id=by_code[p.value.credit_code],
                at=now,
                actor=actor,
                actor_name=actor_name,
                action="import",
                data={"file": str(name)[:200], "line": p.line},
            )
            for p in batch
        )
        return len(created)

    def finish(report):
        if report.written and not report.dry_run:
            audit.record(actor, AuditAction.CREATE, None, detail=f"port.import {name}: {report.written}")

    with open_table(source, columns=COLUMNS, encoding=encoding, sheet=sheet) as table:
        return ImportRun(keep_good=keep_good, dry_run=dry_run, max_errors=max_errors, on_error=on_error).run(
            table, parse=parse, check=check, write=write, finish=finish
        )

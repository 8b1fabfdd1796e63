"""一码检查 demo, through port.inspections: certificates, credit grades, the annual plans (imported
through the plan import), inspections in every state — closed and rated, rectifying, a joint visit
registered for today (the code shows it) — and refused registrations (each rule named)."""

from __future__ import annotations

import datetime as dt
import io

from django.utils import timezone

from changxin.core import roles
from changxin.core.demodata import demo_data
from changxin.core.models import OrgUnit, User
from changxin.core.workflow import WorkflowError
from changxin.port import inspections
from changxin.port.inspection_import import import_plans
from changxin.port.models import InspectionState


def _inspector(item) -> User | None:
    user = User.objects.filter(username=item["username"]).first()
    if user is None and item.get("unit"):
        user = User.objects.create_user(
            item["username"],
            password="changxin-demo",  # noqa: S106 — the demo password of every demo login
            full_name=item["full_name"],
            role=roles.Role.INSPECTOR,
            unit=OrgUnit.objects.get(code=item["unit"]),
        )
    if user is not None and not user.inspector_certificates.exists():
        today = timezone.localdate()
        inspections.issue_certificate(
            user,
            number=item["number"],
            valid_from=today.replace(year=today.year - 2),
            valid_until=today.replace(year=today.year + 3),
            issued_by="北京市人民政府",
        )
    return user


def load_demo(enterprises, stdout=None) -> int:
    if not enterprises or inspections.Inspection.objects.exists():
        return 0
    data = demo_data("port", "inspections.json")
    market, env = (_inspector(item) for item in data["inspectors"])
    if market is None or env is None:
        return 0
    for enterprise, grade in zip(enterprises, data["grades"], strict=False):
        inspections.set_credit_grade(enterprise, grade, actor=None)
    now = timezone.localtime()
    today = now.replace(hour=9, minute=0, second=0, microsecond=0)
    earlier = today - dt.timedelta(days=40)
    if earlier.year != today.year:  # keep the year's visits in the year
        earlier = today.replace(month=1, day=2)
    e0, e1, e2 = enterprises[0], enterprises[1], enterprises[2]
    basis = data["basis"]
    # the annual plans, imported as a department would
    for user, rows in (
        (market, [(e0, earlier), (e0, today), (e2, earlier)]),
        (env, [(e0, today)]),
    ):
        items = basis[user.unit.code]
        # one row per enterprise and month: in January "earlier" is in today's month, and a second
        # row for the same month is refused (the whole plan with it)
        months = dict.fromkeys((e.credit_code, d.year, d.month) for e, d in rows)
        lines = ["年度,月份,统一社会信用代码,检查事项,法律依据"]
        lines += [f"{y},{m},{code},{items['items']},{items['legal_basis']}" for code, y, m in months]
        upload = io.BytesIO("\n".join(lines).encode())
        import_plans(upload, department=user.unit, actor=user, name="plan.csv")

    def register(user, enterprise, start, **kwargs):
        items = basis[user.unit.code]
        return inspections.register_inspection(
            enterprise,
            actor=user,
            inspectors=[user],
            legal_basis=items["legal_basis"],
            items=items["items"],
            planned_from=start,
            planned_until=start + dt.timedelta(hours=3),
            now=start - dt.timedelta(days=2),
            **kwargs,
        )

    # planned, closed without findings, rated by the enterprise
    first = register(market, e0, earlier)
    inspections.act(first, "start", market, now=earlier + dt.timedelta(minutes=10))
    inspections.record_result(first, market, result="no_findings", now=earlier + dt.timedelta(hours=2))
    member = e0.members.first()
    if member is not None:
        inspections.rate(
            first, member, rating=5, comment=data["rating_comment"], now=earlier + dt.timedelta(days=1)
        )
    # planned, findings: rectified and re-checked on time
    second = register(market, e2, earlier)
    inspections.act(second, "start", market, now=earlier + dt.timedelta(minutes=10))
    inspections.record_result(
        second,
        market,
        result="findings",
        findings=data["findings"],
        needs_rectification=True,
        now=earlier + dt.timedelta(hours=2),
    )
    inspections.act(
        second, "recheck_pass", market, note=data["rectified"], now=earlier + dt.timedelta(days=10)
    )
    # a risk signal: findings under rectification now
    third = register(market, e1, earlier, trigger="risk", trigger_ref=data["risk_ref"])
    inspections.act(third, "start", market, now=earlier + dt.timedelta(minutes=10))
    inspections.record_result(
        third,
        market,
        result="findings",
        findings=data["findings"],
        needs_rectification=True,
        now=earlier + dt.timedelta(hours=2),
    )
    # today: two departments at e0 — one joint visit, shown by the enterprise's code
    register(env, e0, today)
    register(market, e0, today + dt.timedelta(hours=1))
    # refused: over the cap (e2 is grade A: one planned visit a year), and without plan or trigger
    refused = 0
    later = today + dt.timedelta(days=3)
    if later.year != today.year:  # the cap counts a year's visits: keep the refused ones in the year
        later = today + dt.timedelta(hours=8)
    for user, enterprise, start in ((market, e2, later), (market, e1, later)):
        try:
            register(user, enterprise, start)
        except WorkflowError:
            refused += 1
    count = inspections.Inspection.objects.exclude(state=InspectionState.REFUSED).count()
    if stdout is not None:
        stdout.write(f"port: {count} inspections, {refused} refused registrations")
    return count

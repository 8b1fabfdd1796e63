"""Policy thresholds on the enterprise's figures (employees, annual revenue in 10,000 yuan): the
edges (inclusive bounds, a missing figure), the reason shown, SQL and Python agreeing, the imports."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from changxin.port import policies, services
from changxin.port.coop_import import import_policies
from changxin.port.importer import import_enterprises
from changxin.port.models import Enterprise, Policy
from changxin.port.uscc import complete

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def policy(**extra):
    return policies.register_policy({"title": "规上企业奖励", "issuer": "区经信局", **extra}, actor=None)


def firm(n, street, employees=None, revenue=None):
    return services.register_enterprise(
        {
            "name": f"门槛企业{n}",
            "credit_code": complete(f"91110106MB{n:07d}"),
            "street": street,
            "employees": employees,
            "annual_revenue": revenue,
        },
        actor=None,
    )


def eligible(p):
    return {e.name for e, _why in policies.eligible_enterprises(p)}


def test_revenue_threshold_edges_and_reason(port_world):
    street = port_world["ours"].street
    p = policy(min_revenue=Decimal("2000"))
    at = firm(1, street, revenue=Decimal("2000"))
    above = firm(2, street, revenue=Decimal("3200"))
    below = firm(3, street, revenue=Decimal("1999.99"))
    unknown = firm(4, street)
    assert policies.reasons(p, above) == ["revenue 3,200 ≥ 2,000"]
    assert policies.reasons(p, at) == ["revenue 2,000 ≥ 2,000"]
    assert policies.reasons(p, below) is None
    assert policies.eligibility(p, below) == [
        {"criterion": "revenue", "ok": False, "why": "revenue 1,999.99 < 2,000"}
    ]
    missing = policies.eligibility(p, unknown)
    assert not missing[0]["ok"] and missing[0]["why"] == "revenue not on record (needs ≥ 2,000)"
    # the database agrees with the explanation (a NULL figure never passes a threshold)
    assert eligible(p) == {at.name, above.name}


def test_employee_range_is_inclusive_at_both_ends(port_world):
    street = port_world["ours"].street
    p = policy(min_employees=10, max_employees=100)
    firms = {n: firm(n, street, employees=n) for n in (9, 10, 100, 101)}
    firm(5, street)  # no figure
    assert eligible(p) == {firms[10].name, firms[100].name}
    assert policies.reasons(p, firms[100]) == ["employees 100 ≥ 10", "employees 100 ≤ 100"]
    rows = policies.eligibility(p, firms[101])
    assert [r["ok"] for r in rows] == [True, False] and rows[1]["why"] == "employees 101 > 100"
    zero = policy(max_employees=0)
    assert eligible(zero) == set()  # nobody has 0 employees here; a missing figure is not 0
    firm(6, street, employees=0)
    assert eligible(zero) == {"门槛企业6"}


def test_thresholds_combine_with_other_criteria_and_sync(port_world):
    ours = port_world["ours"]  # 丽泽, 重点
    p = policy(zones=["lize"], flags=["is_key"], min_employees=50, min_revenue=Decimal("100"))
    assert policies.sync_policy(p) == {"matched": 0, "notified": 0}
    ours.employees, ours.annual_revenue = 50, Decimal("100.5")
    ours.save()
    assert policies.sync_policy(p)["matched"] == 1
    grant = p.grants.get()
    assert "employees 50 ≥ 50" in grant.reasons and "revenue 100.5 ≥ 100" in grant.reasons


def test_bounds_are_checked(port_world):
    with pytest.raises(ValidationError) as refused:
        policy(min_employees=100, max_employees=10)
    assert "max_employees" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        policy(min_revenue=Decimal("-1"))
    assert "min_revenue" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        firm(7, port_world["ours"].street, revenue=Decimal("-0.01"))
    assert "annual_revenue" in refused.value.message_dict


def test_enterprise_import_figures_with_bad_rows_by_line(tmp_path, demo_world):
    header = "企业名称,统一社会信用代码,所属街乡镇,从业人数,年营业收入（万元）\n"

    def row(n, employees, revenue):
        return f"企业{n},{complete(f'91110106MC{n:07d}')},卢沟桥街道,{employees},{revenue}\n"

    path = tmp_path / "e.csv"
    path.write_text(
        header + row(1, "120", '"3,200.5"') + row(2, "", "") + row(3, "-1", "abc") + row(4, "1.5", "-2"),
        encoding="utf-8",
    )
    report = import_enterprises(path)
    assert report.written == 0 and report.rolled_back
    assert {(e.line, e.column) for e in report.errors} == {
        (4, "employees"),
        (4, "annual_revenue"),
        (5, "employees"),
        (5, "annual_revenue"),
    }
    path.write_text(header + row(1, "120", '"3,200.5"') + row(2, "", ""), encoding="utf-8")
    assert import_enterprises(path).written == 2
    first, second = Enterprise.objects.get(name="企业1"), Enterprise.objects.get(name="企业2")
    assert first.employees == 120 and first.annual_revenue == Decimal("3200.50")
    assert second.employees is None and second.annual_revenue is None


def test_policy_import_thresholds(tmp_path, demo_world):
    header = "政策名称,发布单位,从业人数下限,从业人数上限,营业收入下限（万元）,营业收入上限（万元）\n"
    path = tmp_path / "p.csv"
    path.write_text(
        header + "规上奖励,区经信局,10,500,2000,\n" + "坏门槛,区经信局,100,10,,\n" + "负数,区经信局,,,-5,\n",
        encoding="utf-8",
    )
    report = import_policies(path)
    assert report.written == 0
    assert {(e.line, e.column) for e in report.errors} == {(3, "max_employees"), (4, "min_revenue")}
    path.write_text(header + "规上奖励,区经信局,10,500,2000,\n", encoding="utf-8")
    assert import_policies(path).written == 1
    p = Policy.objects.get()
    assert (p.min_employees, p.max_employees, p.min_revenue, p.max_revenue) == (10, 500, Decimal(2000), None)


def test_policy_form_and_page_show_thresholds(client, port_world):
    client.force_login(port_world["dispatcher"])
    response = client.post(
        reverse("port:policy-new"),
        {"title": "门槛政策", "issuer": "区经信局", "min_employees": "20", "max_revenue": "5000"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    p = Policy.objects.get(title="门槛政策")
    assert p.min_employees == 20 and p.max_revenue == Decimal(5000)
    page = client.get(reverse("port:policy", args=[p.pk])).content.decode()
    assert "≥ 20" in page and "≤ 5,000" in page  # (the pages speak the user's language: zh-hans)
    bad = client.post(
        reverse("port:policy-new"),
        {"title": "坏", "issuer": "区经信局", "min_employees": "20", "max_employees": "5"},
    )
    assert (
        bad.status_code == 400
        and "上限低于下限" in bad.content.decode()
        and not Policy.objects.filter(title="坏").exists()
    )

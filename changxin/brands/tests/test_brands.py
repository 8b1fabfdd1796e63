"""The brand wing: the machine's rules named when refused, scope, the results from real demands,
the matrix, the import."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from changxin.brands import figures, selectors, services
from changxin.brands.importer import BrandImport
from changxin.brands.models import Brand, BrandEvent, BrandState, PracticeCase
from changxin.core.errors import DomainError
from changxin.core.models import AuditEntry
from changxin.core.tests.builders import (
    CHANGXINDIAN,
    LUGOUQIAO,
    new_demand,
    party_member,
    party_organisation,
    street_and_community,
    unit,
)
from changxin.core.workflow import WorkflowError
from changxin.demands.models import Demand

DESCRIPTION = "街道机关党员下沉社区，认领高频诉求，包片走访，限时办结。"


@pytest.fixture
def world(demo_world):
    branch = party_organisation(LUGOUQIAO, "卢沟桥机关党支部", field="organ")
    party_member(branch, "李强", user=demo_world["lugouqiao"], secretary=True)
    other = party_organisation(CHANGXINDIAN, "长辛店机关党支部", field="organ")
    party_member(other, "张伟", user=demo_world["changxindian"], secretary=True)
    return {**demo_world, "branch": branch, "other": other}


def _brand(world, name="卢沟晓月·治理先锋", actor=None, **extra):
    return services.create_brand(
        owner=world["branch"],
        name=name,
        field="governance",
        description=DESCRIPTION,
        actor=actor or world["lugouqiao"],
        **extra,
    )


def _case(world, brand, *, area=None, starts=-30, ends=10, actor=None):
    today = timezone.localdate()
    return services.add_case(
        brand,
        title="同馨家园停车治理",
        summary="党员包楼包车位，协调增设临时停车位。",
        area=area or unit(LUGOUQIAO),
        starts_on=today + dt.timedelta(days=starts),
        ends_on=today + dt.timedelta(days=ends),
        actor=actor or world["lugouqiao"],
    )


def _refused(code, call, *args, **kwargs):
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, (caught.value.code, caught.value.message)
    return caught.value


def test_the_whole_lifecycle_leaves_events_and_audit_rows(world):
    brand = _brand(world)
    assert brand.street == unit(LUGOUQIAO)  # the owner's street by default
    case = _case(world, brand)
    services.case_step(case, "submit", world["lugouqiao"])
    services.brand_step(brand, "submit", world["lugouqiao"])
    services.brand_step(brand, "publish", world["party"])
    brand.refresh_from_db()
    case.refresh_from_db()
    assert brand.state == case.state == BrandState.PUBLISHED  # its submitted case is published with it
    assert brand.published_at is not None
    actions = list(BrandEvent.objects.filter(brand=brand).values_list("action", flat=True))
    assert actions == ["create", "add_case", "case_submit", "submit", "publish", "case_publish"]
    states = AuditEntry.objects.filter(action="state")
    assert states.filter(content_type__model="brand", object_id=str(brand.pk)).count() == 2
    assert states.filter(content_type__model="practicecase", object_id=str(case.pk)).count() == 2


def test_each_rule_is_named_when_refused(world):
    brand = services.create_brand(
        owner=world["branch"], name="短简介品牌", field="safety", description="太短", actor=world["lugouqiao"]
    )
    error = _refused("brand_description_required", services.brand_step, brand, "submit", world["lugouqiao"])
    assert "20" in str(error.message)

    brand = _brand(world)
    services.brand_step(brand, "submit", world["lugouqiao"])
    _refused("brand_case_required", services.brand_step, brand, "publish", world["party"])

    future = _case(world, brand, starts=5, ends=40)
    _refused("case_not_started", services.case_step, future, "submit", world["lugouqiao"])

    case = _case(world, brand)
    services.case_step(case, "submit", world["party"])
    # the one who submitted may not approve (four eyes), even as party staff
    _refused("four_eyes", services.case_step, case, "publish", world["party"])
    _refused("brand_not_published", services.case_step, case, "publish", world["admin"])
    # a secretary may not publish at all; a return needs a note
    _refused("not_allowed", services.brand_step, brand, "publish", world["lugouqiao"])
    _refused("note_required", services.brand_step, brand, "return", world["party"])
    services.brand_step(brand, "return", world["party"], note="请补充案例成效")
    brand.refresh_from_db()
    assert brand.state == BrandState.DRAFT


def test_nothing_changes_when_refused(world):
    brand = _brand(world)
    services.brand_step(brand, "submit", world["lugouqiao"])
    before = BrandEvent.objects.count(), AuditEntry.objects.count()
    with pytest.raises(WorkflowError):
        services.brand_step(brand, "publish", world["party"])
    brand.refresh_from_db()
    assert brand.state == BrandState.SUBMITTED and brand.version == 1
    assert (BrandEvent.objects.count(), AuditEntry.objects.count()) == before


def test_only_the_owners_keep_a_brand(world):
    _refused("not_allowed", _brand, world, actor=world["changxindian"])  # another branch's secretary
    _refused("not_allowed", _brand, world, actor=world["leader"])  # read-only leadership
    brand = _brand(world)
    _refused("not_allowed", _case, world, brand, actor=world["changxindian"])
    _refused("read_only", services.brand_step, brand, "submit", world["leader"])


def test_input_is_checked_field_by_field(world):
    assert _refused("required", services.create_brand, owner=world["branch"], name=" ", field="governance",
                    description=DESCRIPTION, actor=world["lugouqiao"]).field == "name"  # fmt: skip
    _brand(world)
    assert _refused("duplicate_name", _brand, world).field == "name"
    brand = Brand.objects.get()
    outside = unit(CHANGXINDIAN)
    assert _refused("area_outside_street", _case, world, brand, area=outside).field == "area"
    assert _refused("period_reversed", _case, world, brand, starts=0, ends=-3).field == "ends_on"
    with pytest.raises(DomainError) as caught:
        services.add_case(
            brand, title="t", summary="s", area=unit(LUGOUQIAO), starts_on=dt.date(1999, 12, 31),
            ends_on=dt.date(2000, 1, 2), actor=world["lugouqiao"],
        )  # fmt: skip
    assert caught.value.field == "starts_on"


def test_drafts_are_seen_by_the_owners_published_brands_by_everyone(world):
    draft = _brand(world, name="草稿品牌")
    published = _brand(world, name="已发布品牌")
    _case(world, published)
    services.case_step(published.cases.get(), "submit", world["lugouqiao"])
    services.brand_step(published, "submit", world["lugouqiao"])
    services.brand_step(published, "publish", world["party"])
    for user in ("citizen", "changxindian", "enterprise"):
        assert set(selectors.brands_visible_to(world[user])) == {published}, user
    for user in ("lugouqiao", "party", "leader", "admin"):
        assert {draft, published} <= set(selectors.brands_visible_to(world[user])), user
    assert list(selectors.timeline(world["citizen"], published)) == []
    assert selectors.timeline(world["lugouqiao"], published).count() > 0


def test_case_results_are_the_areas_demands_before_and_during(world):
    street, community = street_and_community(LUGOUQIAO)
    brand = _brand(world)
    case = _case(world, brand, area=community, starts=-10, ends=-1)
    today = timezone.localdate()
    noon = dt.time(12, tzinfo=timezone.get_current_timezone())
    placed = {-15: 2, -8: 3, -2: 1, -1: 1, 0: 4}  # days from today → demands in the community
    for offset, n in placed.items():
        for _i in range(n):
            d = new_demand(world["dispatcher"], street=street, community=community)
            Demand.objects.filter(pk=d.pk).update(
                received_at=dt.datetime.combine(today + dt.timedelta(days=offset), noon)
            )
    elsewhere = new_demand(world["dispatcher"], street=unit(CHANGXINDIAN))
    Demand.objects.filter(pk=elsewhere.pk).update(
        received_at=dt.datetime.combine(today - dt.timedelta(days=5), noon)
    )
    results = figures.case_results(case)
    assert results.during.days == results.before.days == 10
    assert results.during.demands == 3 + 1 + 1  # days -8, -2, -1 (today is after the period)
    assert results.before.demands == 2  # day -15 falls in -20 … -11
    assert results.change == pytest.approx(1.5)
    assert figures.case_results(_case(world, brand, starts=3, ends=9)) is None


def test_the_matrix_counts_published_brands_per_field_and_street(world):
    for name in ("甲品牌", "乙品牌"):
        brand = _brand(world, name=name)
        _case(world, brand)
        services.case_step(brand.cases.get(), "submit", world["lugouqiao"])
        services.brand_step(brand, "submit", world["lugouqiao"])
    services.brand_step(Brand.objects.get(name="甲品牌"), "publish", world["party"])
    matrix = figures.matrix()
    lugouqiao = unit(LUGOUQIAO)
    assert matrix.count("governance", lugouqiao.pk) == 1  # the submitted one is not counted
    assert sum(matrix.street_totals()) == 1
    assert matrix.cases[("governance", lugouqiao.pk)] == 1


def test_the_import_reports_every_bad_row_and_writes_nothing(world, tmp_path):
    path = tmp_path / "brands.csv"
    path.write_text(
        "品牌名称,领域,所属党组织,街乡镇,口号,简介\n"
        f"好品牌,治理,卢沟桥机关党支部,,口号,{DESCRIPTION}\n"
        f"坏领域,体育,卢沟桥机关党支部,,,{DESCRIPTION}\n"
        f"无组织,教育,不存在的支部,,,{DESCRIPTION}\n"
        f"坏街道,教育,卢沟桥机关党支部,火星街道,,{DESCRIPTION}\n"
        f"好品牌,治理,卢沟桥机关党支部,,,{DESCRIPTION}\n",
        encoding="utf-8",
    )
    report = BrandImport(file_name="brands.csv").run(path)
    assert Brand.objects.count() == 0 and report.rolled_back
    assert [(e.line, e.column) for e in report.errors] == [
        (3, "field"),
        (4, "owner"),
        (5, "street"),
        (6, "name"),
    ]
    assert [e.field for e in report.errors] == ["领域", "所属党组织", "街乡镇", "品牌名称"]
    path.write_text(
        f"品牌名称,领域,所属党组织,街乡镇,口号,简介\n好品牌,两新,卢沟桥机关党支部,110106011,口号,{DESCRIPTION}\n",
        encoding="utf-8",
    )
    report = BrandImport(file_name="brands.csv").run(path)
    brand = Brand.objects.get()
    assert (brand.field, brand.street.code, brand.state) == ("new_sectors", CHANGXINDIAN, BrandState.DRAFT)
    assert BrandEvent.objects.filter(brand=brand, action="create").exists()


def test_pages_respect_scope_and_read_only(world, client):
    draft = _brand(world, name="草稿品牌")
    client.force_login(world["citizen"])
    assert client.get(reverse("brands:home")).status_code == 200
    assert client.get(reverse("brands:brand", args=[draft.pk])).status_code == 404
    assert client.post(reverse("brands:step", args=[draft.pk]), {"action": "submit"}).status_code == 404
    assert client.get(reverse("brands:new")).status_code == 403
    client.force_login(world["changxindian"])  # another branch's secretary
    assert client.get(reverse("brands:brand", args=[draft.pk])).status_code == 404
    client.force_login(world["leader"])  # read-only
    assert client.get(reverse("brands:brand", args=[draft.pk])).status_code == 200
    response = client.post(reverse("brands:step", args=[draft.pk]), {"action": "submit", "version": "0"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.state == BrandState.DRAFT
    complete = {"title": "案例", "summary": "做法", "area": unit(LUGOUQIAO).pk, "starts_on": "2026-01-01",
                "ends_on": "2026-01-31"}  # fmt: skip
    assert client.post(reverse("brands:case-new", args=[draft.pk]), {"title": "x"}).status_code == 400
    assert client.post(reverse("brands:case-new", args=[draft.pk]), complete).status_code == 403
    assert PracticeCase.objects.count() == 0


def test_the_secretary_drafts_through_the_pages(world, client):
    client.force_login(world["lugouqiao"])
    response = client.post(
        reverse("brands:new"),
        {"owner": world["branch"].pk, "name": "", "field": "governance", "description": DESCRIPTION},
    )
    assert response.status_code == 400 and "name" in response.context["form"].errors
    response = client.post(
        reverse("brands:new"),
        {"owner": world["other"].pk, "name": "越权品牌", "field": "governance", "description": DESCRIPTION},
    )
    assert response.status_code == 400 and "owner" in response.context["form"].errors  # not theirs
    response = client.post(
        reverse("brands:new"),
        {"owner": world["branch"].pk, "name": "新品牌", "field": "governance", "description": DESCRIPTION},
    )
    brand = Brand.objects.get(name="新品牌")
    assert response.status_code == 302 and response["Location"] == reverse("brands:brand", args=[brand.pk])
    response = client.post(
        reverse("brands:case-new", args=[brand.pk]),
        {"title": "案例", "summary": "做了什么", "area": unit(LUGOUQIAO).pk, "starts_on": "2026-13-01",
         "ends_on": "2026-01-31"},
    )  # fmt: skip
    assert response.status_code == 400 and "starts_on" in response.context["case_form"].errors
    response = client.post(
        reverse("brands:case-new", args=[brand.pk]),
        {"title": "案例", "summary": "做了什么", "area": unit(LUGOUQIAO).pk, "starts_on": "١٢٣",
         "ends_on": "2026-01-31"},
    )  # fmt: skip
    assert response.status_code == 400
    response = client.get(reverse("brands:home") + "?street=١٢&field=bogus")
    assert response.status_code == 200


def test_the_matrix_csv_is_a_download(world, client):
    client.force_login(world["citizen"])
    response = client.get(reverse("brands:matrix-csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("领域,") or text.splitlines()[0].startswith("Field,")
    assert "卢沟桥街道" in text.splitlines()[0]


def test_a_refused_action_is_named_on_the_page(world, client):
    brand = _brand(world)
    brand = services.brand_step(brand, "submit", world["lugouqiao"])
    blocked = services.blocked_brand_actions(world["party"], brand)
    assert [(t.name, g.code) for t, g in blocked] == [("publish", "brand_case_required")]
    assert services.blocked_brand_actions(world["leader"], brand) == []  # read-only: nothing to offer
    client.force_login(world["party"])
    response = client.post(reverse("brands:step", args=[brand.pk]), {"action": "publish", "version": "1"})
    assert response.status_code == 409
    assert response.context["refusal"].code == "brand_case_required"
    assert "brand_case_required" in response.content.decode()
    response = client.post(reverse("brands:step", args=[brand.pk]), {"action": "return", "version": "0"})
    assert response.status_code == 409 and response.context["refusal"].code == "stale"

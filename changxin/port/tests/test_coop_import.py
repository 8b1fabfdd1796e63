"""Imports of city scenarios and policies: per-row errors by line, all or nothing, --keep-good."""

import pytest
from django.core.management import call_command
from django.utils import translation

from changxin.port.coop_import import import_policies, import_scenarios
from changxin.port.models import Policy, Scenario

pytestmark = pytest.mark.django_db


def write(tmp_path, text, name="file.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_scenarios_bad_rows_by_line_and_nothing_written(tmp_path, demo_world):
    text = (
        "场景名称,领域,场景描述,责任单位,截止日期\n"
        "河道巡检,低空技术,无人机巡检河道,区水务局,2030-01-31\n"
        ",低空技术,缺标题,区水务局,\n"
        "冷链追溯,农产品,冷链全程追溯,火星局,2030-02-30\n"
    )
    with translation.override("en"):
        report = import_scenarios(write(tmp_path, text))
    assert report.written == 0 and report.bad == 2
    lines = {(e.line, e.column) for e in report.errors}
    assert (3, "title") in lines and (4, "owner_unit") in lines and (4, "deadline") in lines
    assert not Scenario.objects.exists()
    kept = import_scenarios(write(tmp_path, text), keep_good=True)
    assert kept.written == 1 and Scenario.objects.get().owner_unit.code == "110106D11"


def test_policies_with_list_cells(tmp_path, demo_world):
    text = (
        "政策名称,发布单位,行业,企业规模,功能区,企业资质,金额,免申即享\n"
        "研发补贴,区经信局,科技、制造,小型、微型,丽泽金融商务区,专精特新、高新,50,是\n"
        "坏政策,区经信局,,巨型,,,-1,\n"
    )
    report = import_policies(write(tmp_path, text))
    assert report.written == 0 and {e.column for e in report.errors} == {"sizes", "amount"}
    assert all(e.line == 3 for e in report.errors)
    call_command("port", "import-policies", str(write(tmp_path, text)), "--keep-good")
    policy = Policy.objects.get()
    assert policy.industries == ["科技", "制造"] and policy.sizes == ["small", "micro"]
    assert policy.zones == ["lize"] and policy.flags == ["is_specialised", "is_high_tech"]
    assert policy.without_application

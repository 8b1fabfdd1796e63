"""Retraining from the platform's own closed demands."""

import io

import pytest
from django.core.management import CommandError, call_command

from changxin.core.tests.builders import build_world
from changxin.demands.models import Category
from changxin.demands.services import transition
from changxin.triage import classifier
from changxin.triage.history import rows_from_closed_demands


def closed(world, title, content, category):
    demand = world.demand(title=title, content=content, category=category)
    transition(demand, "dispatch", world.dispatcher, lead_unit=world.lugouqiao.pk)
    transition(demand, "acknowledge", world.officer_lgq)
    transition(demand, "contact", world.officer_lgq, note="已联系")
    return transition(demand, "reply", world.officer_lgq, note="已处理完毕")


@pytest.fixture
def world(db):
    return build_world(calendar_years=(2026,))


def test_rows_are_closed_categorised_unmerged_demands_labelled_by_first_level(world):
    leaf = Category.objects.filter(level=3, parent__parent__name="环境保护").first()
    done = closed(world, "夜间施工噪音", "工地夜里施工，噪音扰民。", leaf)
    world.demand(title="还没办完", content="尚在受理", category=leaf)  # open: not a training row
    closed(world, "没有分类", "无分类的诉求", None)  # no category: not a training row
    rows = list(rows_from_closed_demands())
    assert rows == [
        {
            "id": str(done.pk),
            "title": "夜间施工噪音",
            "content": "工地夜里施工，噪音扰民。",
            "label": "环境保护",
        }
    ]


def test_train_from_demands_together_with_a_base_set(world, tmp_path, settings):
    settings.CHANGXIN_TRIAGE_MODEL_DIR = tmp_path
    leaf = Category.objects.filter(level=3, parent__parent__name="环境保护").first()
    for i in range(3):
        closed(world, f"工地夜间施工噪音{i}", "小区旁工地夜里十一点后施工，噪音很大。", leaf)
    out = io.StringIO()
    call_command(
        "triage", "train", "--data", str(classifier.DEMO_DATA), "--from-demands", "--holdout", "0", stdout=out
    )
    assert "3 closed demands with a category from the platform" in out.getvalue()
    prediction = classifier.classify_demand("工地夜间施工噪音", "夜里施工噪音很大")
    assert prediction is not None and prediction.category == "环境保护"


def test_train_needs_a_source(world):
    with pytest.raises(CommandError, match="--from-demands"):
        call_command("triage", "train")

"""No English or ASCII punctuation leaks into the Chinese UI (issue 14, point 15)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from changxin.core import texts
from changxin.core.divisions import NBS_SOURCE
from changxin.core.models import OrgUnit
from changxin.core.tests.builders import LUGOUQIAO, station_demand
from changxin.demands.forms import form_for
from changxin.demands.services import transition
from changxin.station.forms import CitizenDemandForm


def test_clauses_are_joined_without_doubled_punctuation():
    with translation.override("zh-hans"):
        assert texts.join_clauses(["地址提到卢沟桥。", "分类相符。", ""]) == "地址提到卢沟桥；分类相符"
        assert texts.labelled("诉求人", "韩梅梅") == "诉求人：韩梅梅"
    with translation.override("en"):
        assert texts.join_clauses(["street named.", "category"]) == "street named; category"
        assert texts.labelled("Requester", "Han") == "Requester: Han"


def test_system_actor_names_are_translated_at_display():
    with translation.override("zh-hans"):
        assert texts.actor_label("requester") == "诉求人"
        assert texts.actor_label("system") == "系统"
        assert texts.actor_label("import") == "数据导入"
        assert texts.actor_label("lugouqiao") == "lugouqiao"  # a login name stays as it is


def test_division_source_is_chinese():
    assert "npm" not in NBS_SOURCE and "via" not in NBS_SOURCE
    assert NBS_SOURCE.startswith("国家统计局")


@pytest.mark.django_db
def test_timeline_shows_no_english_actor_or_ascii_separators(client, demo_world):
    demand = station_demand(actor=AnonymousUser())
    transition(demand, "dispatch", demo_world["dispatcher"], lead_unit=OrgUnit.objects.get(code=LUGOUQIAO))
    client.force_login(demo_world["dispatcher"])
    html = client.get(f"/demands/{demand.pk}/").content.decode()
    timeline = html[html.index('id="timeline"') :]
    assert "诉求人" in timeline
    assert "requester" not in timeline and "system" not in timeline
    assert "。; " not in html


@pytest.mark.django_db
def test_too_long_text_gets_a_chinese_message_naming_field_and_limit(demo_world):
    with translation.override("zh-hans"):
        form = CitizenDemandForm({"title": "灯" * 130, "content": "路灯坏了", "demand_type": "complaint"})
        assert not form.is_valid()
        (message,) = form.errors["title"]
        assert message == "标题最多 120 个字，现在有 130 个字。"
        # no maxlength (the browser would cut a paste silently): a counter in forms.js instead
        html = str(form["title"])
        assert " maxlength=" not in html and 'data-maxlength="120"' in html


@pytest.mark.django_db
def test_action_notes_have_the_same_length_message(demo_world):
    demand = station_demand()
    with translation.override("zh-hans"):
        form = form_for(
            "dispatch",
            {"version": demand.version, "note": "字" * 5001},
            demand=demand,
            user=demo_world["dispatcher"],
        )
        form.is_valid()
        assert any("最多 5000 个字" in m for m in form.errors.get("note", []))

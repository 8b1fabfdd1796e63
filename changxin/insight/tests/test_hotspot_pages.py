"""The hourly hot-spot job over the platform's demands, and its pages (scoped by street)."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from changxin.core import jobs
from changxin.core.tests.builders import CHANGXINDIAN, LUGOUQIAO, hot_spot_in, new_demand, unit
from changxin.insight import services
from changxin.insight.models import HotSpot

pytestmark = pytest.mark.django_db

PARKING = [
    "晓月苑小区门口机动车乱停乱放堵塞消防通道",
    "晓月苑小区门口机动车乱停乱放，消防通道被堵",
    "晓月苑小区门口机动车乱停乱放",
]


@pytest.fixture
def demands(demo_world):
    operator = demo_world["dispatcher"]
    made = {
        "lugouqiao": [
            new_demand(operator, street_code=LUGOUQIAO, street=unit(LUGOUQIAO), title=t, content=t)
            for t in PARKING
        ],
        "changxindian": [
            new_demand(operator, street_code=CHANGXINDIAN, street=unit(CHANGXINDIAN), title=t, content=t)
            for t in PARKING[0::2]
        ],
        "alone": new_demand(
            operator, street_code=LUGOUQIAO, street=unit(LUGOUQIAO), title="咨询孩子入学材料"
        ),
    }
    return made


def test_the_job_stores_one_hot_spot_per_problem_and_street_and_replaces_its_own_run(demands):
    summary = services.refresh_hot_spots()
    assert summary["hot_spots"] == 2
    spots = {spot.street.code: spot for spot in HotSpot.objects.select_related("street")}
    assert set(spots) == {LUGOUQIAO, CHANGXINDIAN}
    assert {d.pk for d in spots[LUGOUQIAO].demands.all()} == {d.pk for d in demands["lugouqiao"]}
    assert spots[LUGOUQIAO].demand_count == 3 and spots[LUGOUQIAO].as_of == timezone.localdate()
    assert sum(spots[LUGOUQIAO].daily.values()) == 3
    assert spots[LUGOUQIAO].number == 1  # the bigger problem is the hotter one
    services.refresh_hot_spots()  # run again: the day's run is replaced, not doubled
    assert HotSpot.objects.count() == 2


def test_the_job_is_registered_hourly():
    [job] = [p for p in jobs.registered_periodic() if p.name.endswith("refresh_hot_spots")]
    assert job.is_due(timezone.localtime().replace(minute=7))
    assert not job.is_due(timezone.localtime().replace(minute=8))


def test_a_street_officer_sees_their_street_hot_spots_only(client, demo_world, demands):
    services.refresh_hot_spots()
    ours = HotSpot.objects.get(street__code=LUGOUQIAO)
    theirs = HotSpot.objects.get(street__code=CHANGXINDIAN)
    client.force_login(demo_world["lugouqiao"])
    page = client.get(reverse("insight:hot-spots")).content.decode()
    assert reverse("insight:hot-spot", args=[ours.pk]) in page
    assert reverse("insight:hot-spot", args=[theirs.pk]) not in page
    assert client.get(reverse("insight:hot-spot", args=[theirs.pk])).status_code == 404
    detail = client.get(reverse("insight:hot-spot", args=[ours.pk]))
    assert detail.status_code == 200
    body = detail.content.decode()
    for demand in demands["lugouqiao"]:
        assert f'data-pk="{demand.pk}"' in body
    chart = json.loads(re.search(r'id="daily-data" type="application/json">(.*?)</script>', body).group(1))
    assert len(chart["days"]) == 30 and sum(chart["counts"]) == 3
    assert 'id="daily-table"' in body and "vendor/echarts/echarts.min.js" in body
    client.force_login(demo_world["dispatcher"])
    page = client.get(reverse("insight:hot-spots")).content.decode()
    assert reverse("insight:hot-spot", args=[theirs.pk]) in page


def test_rising_only_filter_and_the_link_from_the_insight_home(client, demo_world):
    calm = hot_spot_in(LUGOUQIAO, label="平稳的问题")
    rising = hot_spot_in(LUGOUQIAO, label="上升的问题", rising=True)
    client.force_login(demo_world["dispatcher"])
    page = client.get(reverse("insight:hot-spots"), {"rising": "1"}).content.decode()
    assert rising.label in page and calm.label not in page
    assert reverse("insight:hot-spots") in client.get(reverse("insight:home")).content.decode()


def test_the_list_says_when_nothing_was_computed(client, demo_world):
    client.force_login(demo_world["dispatcher"])
    assert 'id="no-run"' in client.get(reverse("insight:hot-spots")).content.decode()


def test_the_demo_hook_runs_the_job(demands):
    from django.apps import apps

    out = io.StringIO()
    apps.get_app_config("insight").load_demo(out)  # `changxin demo` calls it after the demands' hook
    assert HotSpot.objects.filter(as_of=timezone.localdate()).count() == 2
    assert out.getvalue().startswith("hot spots: 2 (0 rising)\n")
    assert "proactive tasks:" in out.getvalue()  # 未诉先办 and 每月一题 (insight/demo.py) follow

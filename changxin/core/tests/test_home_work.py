"""The home page shows each role its work (issue 14, point 14)."""

import datetime as dt

import pytest
from django.utils import timezone

from changxin.core.tests.builders import LUGOUQIAO, new_demand, station_demand, station_replied_demand, unit

pytestmark = pytest.mark.django_db


def test_a_citizen_sees_their_own_demands(client, demo_world):
    demand = station_demand(actor=demo_world["citizen"], title="我自己的诉求")
    client.force_login(demo_world["citizen"])
    html = client.get("/").content.decode()
    assert 'id="home-own-demands"' in html and "我自己的诉求" in html
    assert f"/station/track/{demand.tracking_code}/" in html


def test_an_officer_sees_what_is_due_today(client, demo_world):
    due = new_demand(demo_world["dispatcher"], street_code=LUGOUQIAO, title="今天到期的事")
    task = due.tasks.get()
    # Late tonight in Beijing, whenever the suite runs: "now + 30 minutes" is tomorrow after 23:30.
    task.due_at = timezone.localtime().replace(hour=23, minute=59, second=0, microsecond=0)
    task.save(update_fields=["due_at"])
    later = new_demand(demo_world["dispatcher"], street_code=LUGOUQIAO, title="下周才到期")
    later.tasks.update(due_at=timezone.now() + dt.timedelta(days=7))
    client.force_login(demo_world["lugouqiao"])
    html = client.get("/").content.decode()
    panel = html[html.index('id="home-due-today"') :]
    assert "今天到期的事" in panel and "下周才到期" not in panel


def test_the_dispatcher_sees_queue_figures_linking_to_the_lists(client, demo_world):
    new_demand(demo_world["dispatcher"])
    new_demand(demo_world["dispatcher"])
    client.force_login(demo_world["dispatcher"])
    html = client.get("/").content.decode()
    centre = html[html.index('id="home-centre"') :]
    assert '<a href="/demands/queue/"><span class="value">2</span>' in centre
    assert 'href="/demands/overdue/"' in centre


def test_the_overdue_card_goes_to_the_overdue_list(client, demo_world):
    client.force_login(demo_world["leader"])
    html = client.get("/").content.decode()
    assert 'href="/demands/overdue/"' in html


def act_with_htmx(client, demand, action, region, **data):
    """Post an action as the list's htmx form does; return the part of the page htmx swaps in."""
    response = client.post(
        f"/demands/{demand.pk}/act/{action}/",
        {"version": demand.version, **data},
        HTTP_HX_REQUEST="true",
        follow=True,
    )
    html = response.content.decode()
    return html[html.index(f'id="{region}"') :]


def test_quick_dispatch_confirms_in_the_queue(client, demo_world):
    demand = new_demand(demo_world["dispatcher"])
    client.force_login(demo_world["dispatcher"])
    results = act_with_htmx(
        client, demand, "dispatch", "queue-results", lead_unit=unit(LUGOUQIAO).pk, next="/demands/queue/"
    )
    assert "已派至卢沟桥街道" in results


def test_a_return_visit_confirms_in_the_visit_list(client, demo_world):
    demand = station_replied_demand(demo_world)
    client.force_login(demo_world["dispatcher"])
    visits = act_with_htmx(
        client,
        demand,
        "return_visit",
        "visits",
        resolution="resolved",
        satisfaction="satisfied",
        next="/demands/visits/",
    )
    assert "“记录回访结果”已完成。" in visits


def test_queue_export_carries_the_current_view(client, demo_world):
    new_demand(demo_world["dispatcher"])
    done = new_demand(demo_world["dispatcher"], street_code=LUGOUQIAO)
    assert done.state == "dispatched"
    client.force_login(demo_world["dispatcher"])
    default = client.get("/demands/queue/")
    assert default.context["export_url"].endswith("?view=centre")
    filtered = client.get("/demands/queue/?state=dispatched&q=%E6%B2%B9%E7%83%9F")
    assert "state=dispatched" in filtered.context["export_url"] and "q=" in filtered.context["export_url"]
    # the export of the default view lists what the page lists
    from changxin.demands.selectors import DemandFilter, list_demands

    flt = DemandFilter.from_params({"view": "centre"})
    assert list(list_demands(demo_world["dispatcher"], flt)) == list(
        list_demands(demo_world["dispatcher"], DemandFilter(state="received"))
    )

"""Pages: rankings, drill-down (scoped), unit trend, dashboard; access rules; empty months."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from changxin.core.models import AuditAction, AuditEntry
from changxin.core.tests.builders import CHANGXINDIAN, CHENGGUAN, FENGTAI, LUGOUQIAO, at
from changxin.insight.tests.pages import drill_pks, ranking_table

MARCH = "2025-03"


@pytest.fixture
def march(world, settings):
    settings.CHANGXIN_RANKING_MIN_DEMANDS = 1  # rank the one- and two-demand units of this small month
    t = at(4, 10)
    w = world
    made = {
        "lug_ok": w.handle(w.new(t), LUGOUQIAO, t, resolution="resolved", satisfaction="satisfied"),
        "lug_late": w.handle(
            w.new(t),
            LUGOUQIAO,
            t,
            contact_after=dt.timedelta(hours=50),
            resolution="partly",
            satisfaction="basic",
        ),
        "cxd": w.handle(
            w.new(t, street=CHANGXINDIAN),
            CHANGXINDIAN,
            t,
            resolution="unresolved",
            satisfaction="dissatisfied",
        ),
        "dept": w.handle(w.new(t), CHENGGUAN, t, resolution="resolved", satisfaction="satisfied"),
    }
    return made


def get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def test_rankings_page_shows_rates_and_links(client, world, march):
    response = get(client, world.leader, reverse("insight:home"), month=MARCH)
    assert response.status_code == 200
    table = ranking_table(response.content.decode())
    lug = table[LUGOUQIAO]
    assert lug["rank"] == "1" and lug["dispatched"] == "2" and lug["response-numerator"] == "1"
    assert lug["response-rate"] == "50.00%"
    assert lug["resolution-numerator"] == "1.5" and lug["resolution-rate"] == "75.00%"
    assert lug["satisfaction-numerator"] == "1.8" and lug["satisfaction-rate"] == "90.00%"
    assert lug["composite"] == f"{(0.1 * 0.5 + 0.45 * 0.75 + 0.45 * 0.9) * 100:.2f}"
    assert table[CHANGXINDIAN]["rank"] == "2" and table[CHANGXINDIAN]["composite"] == "10.00"
    assert table[FENGTAI]["rank"] == "—" and table[FENGTAI]["composite"] == "—"
    html = response.content.decode()
    assert f"?unit={LUGOUQIAO}&amp;month={MARCH}&amp;metric=response&amp;part=numerator" in html
    assert 'id="chart-ranking"' in html and "echarts.min.js" in html


def test_group_tabs(client, world, march):
    response = get(client, world.leader, reverse("insight:home"), month=MARCH, group="department")
    table = ranking_table(response.content.decode())
    assert table[CHENGGUAN]["rank"] == "1" and LUGOUQIAO not in table


def test_too_few_are_shown_apart_tab_counts_match_and_the_footnote_is_one(client, world, march, settings):
    settings.CHANGXIN_RANKING_MIN_DEMANDS = 2
    footnotes = set()
    for group, ranked, apart in (("street", {LUGOUQIAO}, {CHANGXINDIAN}), ("department", set(), {CHENGGUAN})):
        html = get(client, world.leader, reverse("insight:home"), month=MARCH, group=group).content.decode()
        ranking = html.split('id="ranking-table"', 1)[1].split("</table>", 1)[0]
        assert set(re.findall(r'data-unit="([^"]+)"', ranking)) == ranked
        shown_apart = html.split('id="apart-table"', 1)[1].split("</table>", 1)[0]
        assert set(re.findall(r'data-unit="([^"]+)"', shown_apart)) == apart
        current = re.search(r'aria-current="page"[^>]*>[^<(]*\((\d+)\)', html)
        assert int(current.group(1)) == len(ranked)
        footnotes.add(re.search(r'<aside class="ranking-footnote".*?</aside>', html, re.S).group(0))
        assert "2" in footnotes.copy().pop()
    assert len(footnotes) == 1  # the same rules, formatted the same, on every tab


def test_empty_month_and_bad_params(client, world):
    for params in ({"month": "2025-01"}, {"month": "garbage", "group": "nonsense"}, {}):
        response = get(client, world.leader, reverse("insight:home"), **params)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="no-ranking"' in html and 'id="no-volume"' in html
    response = get(client, world.leader, reverse("insight:unit", args=[LUGOUQIAO]), month="2025-01")
    assert response.status_code == 200
    response = get(
        client,
        world.leader,
        reverse("insight:drill"),
        unit=LUGOUQIAO,
        month="2025-01",
        metric="response",
        part="numerator",
    )
    assert response.status_code == 200 and "drill-count" in response.content.decode()
    assert get(client, world.leader, reverse("insight:drill"), metric="nope", part="x").status_code == 400
    assert get(client, world.leader, reverse("insight:unit", args=["nope"])).status_code == 404


def test_drill_down_agrees_with_figures(client, world, march):
    for metric, part, expected in (
        ("response", "denominator", {"lug_ok", "lug_late"}),
        ("response", "numerator", {"lug_ok"}),
        ("resolution", "numerator", {"lug_ok", "lug_late"}),
        ("satisfaction", "denominator", {"lug_ok", "lug_late"}),
    ):
        response = get(
            client,
            world.admin,
            reverse("insight:drill"),
            unit=LUGOUQIAO,
            month=MARCH,
            metric=metric,
            part=part,
        )
        assert drill_pks(response.content.decode()) == {march[k].pk for k in expected}


def test_officer_sees_rankings_but_drills_only_in_scope(client, world, march):
    officer = world.officer(CHANGXINDIAN)
    response = get(client, officer, reverse("insight:home"), month=MARCH)
    assert response.status_code == 200
    table = ranking_table(response.content.decode())
    assert table[LUGOUQIAO]["dispatched"] == "2"  # published figures
    html = response.content.decode()
    assert f"unit={CHANGXINDIAN}&amp;month={MARCH}&amp;metric=response" in html  # own unit: links
    assert f"unit={LUGOUQIAO}&amp;month={MARCH}&amp;metric=response" not in html  # others: numbers only
    # Crafting the URL by hand lists nothing outside the officer's scope
    response = get(
        client,
        officer,
        reverse("insight:drill"),
        unit=LUGOUQIAO,
        month=MARCH,
        metric="response",
        part="denominator",
    )
    assert response.status_code == 200
    assert drill_pks(response.content.decode()) == set()
    assert 'id="scope-note"' in response.content.decode()
    # ...and the district-wide list shows only the officer's own demand
    response = get(
        client, officer, reverse("insight:drill"), month=MARCH, metric="response", part="denominator"
    )
    assert drill_pks(response.content.decode()) == {march["cxd"].pk}


def test_unit_trend_page(client, world, march):
    w = world
    feb = at(10, 10, month=2)
    w.handle(w.new(feb), LUGOUQIAO, feb, resolution="resolved", satisfaction="satisfied")
    response = get(client, world.leader, reverse("insight:unit", args=[LUGOUQIAO]), month=MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    months = re.findall(r'data-month="(\d{4}-\d{2})"', html)
    assert months[0] == MARCH and months[1] == "2025-02" and len(months) == 12
    assert 'id="chart-trend"' in html


def test_access(client, world):
    url = reverse("insight:home")
    assert client.get(url).status_code == 302
    assert get(client, world.citizen, url).status_code == 403
    assert get(client, world.citizen, reverse("insight:export-demands")).status_code == 403
    assert get(client, world.officer(LUGOUQIAO), url).status_code == 200


def test_home_cards_and_navigation(client, world, march):
    from django.apps import apps

    cards = apps.get_app_config("insight").home_cards(world.leader)
    assert [c["url"] for c in cards] == ["insight:home", "demands:overdue"]  # the overdue list itself
    assert apps.get_app_config("insight").home_cards(world.citizen) == []
    response = get(client, world.leader, reverse("home"))
    assert response.status_code == 200
    assert reverse("insight:home") in response.content.decode()


def test_dashboard_is_scoped(client, world):
    from django.utils import timezone

    now = timezone.now()
    world.new(now - dt.timedelta(days=2), street=LUGOUQIAO)
    world.new(now - dt.timedelta(days=1), street=CHANGXINDIAN)
    from changxin.insight import dashboard

    assert sum(n for _d, n in dashboard.daily_volume(world.leader)) == 2
    assert len(dashboard.daily_volume(world.leader)) == 90
    officer = world.officer(LUGOUQIAO)
    # not dispatched yet: the officer's scope (lead unit / tasks) holds none of them
    assert sum(n for _d, n in dashboard.daily_volume(officer)) == 0
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT).count() == 0


def test_the_drill_down_keeps_the_first_rounds_contact_after_a_reopen(client, world, march):
    from changxin.demands.services import transition

    demand = march["lug_ok"]  # contacted 4 March 13:00, on time
    transition(demand, "reopen", world.operator, note="重办", now=at(6, 10))
    response = get(
        client,
        world.leader,
        reverse("insight:drill"),
        unit=LUGOUQIAO,
        month=MARCH,
        metric="response",
        part="numerator",
    )
    html = response.content.decode()
    assert demand.pk in drill_pks(html)
    row = html.split(f'data-pk="{demand.pk}"', 1)[1].split("</tr>", 1)[0]
    assert '<td data-col="first-contact">2025-03-04 13:00</td>' in row


def test_reading_a_ranking_writes_nothing(client, world):
    from changxin.demands.models import RankingSnapshot, RankingWeights

    for month in ("2999-12", "2025-03", "2024-01"):
        response = get(client, world.leader, reverse("insight:home"), month=month)
        assert response.status_code == 200
        get(client, world.leader, reverse("insight:export-rankings"), month=month)
        get(client, world.leader, reverse("insight:unit", args=[LUGOUQIAO]), month=month)
    assert not RankingWeights.objects.exists() and not RankingSnapshot.objects.exists()

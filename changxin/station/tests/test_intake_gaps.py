"""Intake and portal gaps (issue 14): an answered consultation needs no location; the operator sees
the tracking code to read out; the requester's rating takes a comment."""

from django.urls import reverse

from changxin.core.tests.builders import station_replied_demand
from changxin.demands.models import Demand, State
from changxin.station.tests.test_intake import URL, call, operator  # noqa: F401 — the fixture


def test_a_consultation_answered_at_intake_needs_no_location(client, operator):  # noqa: F811
    response = client.post(
        URL,
        call(
            demand_type="consult",
            title="居住证怎么办理",
            street=None,
            community=None,
            address="",
            answer="请携带身份证和租房合同到社区服务站办理。",
        ),
    )
    assert response.status_code == 302
    demand = Demand.objects.get()
    assert demand.state == State.REPLIED and demand.street is None


def test_a_call_to_dispatch_still_needs_a_location(client, operator):  # noqa: F811
    response = client.post(URL, call(demand_type="consult", street=None, community=None, address=""))
    assert response.status_code == 400 and "street" in response.context["form"].errors
    assert not Demand.objects.exists()


def test_the_operator_reads_out_the_tracking_code_after_intake_and_on_the_detail_page(
    client,
    operator,  # noqa: F811
    demo_world,
):
    response = client.post(URL, call(), follow=True)
    demand = Demand.objects.get()
    html = response.content.decode()
    spaced = f"{demand.tracking_code[:5]} {demand.tracking_code[5:]}"
    assert 'id="intake-tracking-code"' in html and spaced in html
    detail = client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert 'id="tracking-code"' in detail and demand.tracking_code in detail
    transition_to_street(demand, demo_world)
    client.force_login(demo_world["lugouqiao"])
    detail = client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert 'id="tracking-code"' not in detail and demand.tracking_code not in detail


def transition_to_street(demand, world):
    from changxin.demands.services import transition

    transition(demand, "dispatch", world["dispatcher"], lead_unit=demand.street)


def test_the_requesters_rating_takes_a_comment(client, demo_world):
    demand = station_replied_demand(demo_world)
    url = reverse("station:track-status", args=[demand.tracking_code])
    response = client.post(
        url, {"resolution": "partly", "satisfaction": "basic", "comment": "路灯修好了，但还有一盏不亮"}
    )
    assert response.status_code == 302
    demand.refresh_from_db()
    assert demand.rating_comment == "路灯修好了，但还有一盏不亮"
    assert "路灯修好了，但还有一盏不亮" in client.get(url).content.decode()


def test_the_intake_category_search_finds_by_synonym(client, operator):  # noqa: F811
    html = client.get(reverse("station:category-options"), {"q": "垃圾"}).content.decode()
    assert "环境卫生" in html and "No category matches" not in html


def test_danger_to_life_shows_the_emergency_hint_and_the_referral_is_recorded(client, operator):  # noqa: F811
    page = client.get(URL).content.decode()
    assert (
        'id="emergency-hint"' in page
        and 'id="emergency-hint" class="emergency-hint" role="alert" hidden' in page
    )
    # an incomplete call about a gas smell: the page comes back with the hint shown, 119 marked
    response = client.post(URL, call(content="楼道里煤气味很重，有老人被困在屋里", requester_phone=""))
    html = response.content.decode()
    hint = html.split('id="emergency-hint"', 1)[1].split("</article>", 1)[0]
    assert not hint.lstrip().startswith('class="emergency-hint" role="alert" hidden')
    assert '<span class="badge danger" data-number="119" >' in hint
    assert 'data-number="110" hidden' in hint
    response = client.post(
        URL, call(urgency="urgent", content="楼道里煤气味很重，有老人被困在屋里", referral=["119", "120"])
    )
    assert response.status_code == 302
    demand = Demand.objects.get()
    assert demand.emergency_referral == "119,120"
    detail = client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert 'id="emergency-referral"' in detail and "119,120" in detail


def test_the_emergency_words_are_matched_per_service():
    from changxin.demands.emergency import referrals_for

    assert referrals_for("着火了", "") == ["119"]
    assert referrals_for("燃气泄漏，有人晕倒") == ["119", "120"]
    assert referrals_for("楼下有人持刀") == ["110"]
    assert referrals_for("路灯不亮") == []

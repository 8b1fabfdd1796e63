"""Hotline intake: operators only, hotline channel, answer at intake, repeat callers (audited)."""

import pytest

from changxin.core.models import AuditEntry
from changxin.core.tests.builders import other_community, station_demand, street_and_community
from changxin.demands.models import Channel, Demand, DemandType, State, Urgency
from changxin.station.tests.conftest import form_token

URL = "/station/intake/"


def call(**overrides):
    street, community = street_and_community()
    data = {
        "token": form_token(),
        "requester_phone": "13811112222",
        "requester_name": "王先生",
        "demand_type": "complaint",
        "urgency": "normal",
        "title": "夜间施工噪音",
        "content": "工地晚上十一点后还在施工。",
        "street": street.pk,
        "community": community.pk,
        "address": "卢沟桥路12号",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def operator(client, demo_world):
    client.force_login(demo_world["dispatcher"])
    return demo_world["dispatcher"]


def test_anonymous_visitors_are_sent_to_login(client, demo_world):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith("/login/?next=")
    assert client.get("/station/intake/caller/", {"requester_phone": "13811112222"}).status_code == 302


@pytest.mark.parametrize("username", ["citizen", "enterprise", "lugouqiao", "leader"])
def test_other_roles_are_refused(client, demo_world, username):
    client.force_login(demo_world[username])
    assert client.get(URL).status_code == 403
    assert client.post(URL, call()).status_code == 403
    assert client.get("/station/intake/caller/", {"requester_phone": "13811112222"}).status_code == 403
    assert Demand.objects.count() == 0


def test_form_is_built_for_the_keyboard(client, operator):
    response = client.get(URL)
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields)[0] == "requester_phone"
    assert form["demand_type"].value() == DemandType.COMPLAINT
    assert form["urgency"].value() == Urgency.NORMAL
    text = response.text
    assert text.index('name="requester_phone"') < text.index('name="title"') < text.index('id="intake-save"')
    assert 'accesskey="p"' in text and "autofocus" in text


def test_operator_saves_a_call_and_gets_a_fresh_form(client, operator):
    response = client.post(URL, call(urgency="urgent"), follow=True)
    demand = Demand.objects.get()
    assert demand.channel == Channel.HOTLINE
    assert demand.urgency == Urgency.URGENT
    assert demand.created_by == operator and demand.requester_user is None
    assert demand.state == State.RECEIVED
    assert response.redirect_chain == [(URL, 302)]
    assert demand.number in response.text
    assert f'href="/demands/{demand.pk}/"' in response.text
    assert response.context["form"]["title"].value() in (None, "")  # a fresh form


def test_intake_resubmit_is_idempotent(client, operator):
    data = call()
    client.post(URL, data)
    client.post(URL, data)
    assert Demand.objects.count() == 1


def test_bad_fields_are_named(client, operator):
    street, _ = street_and_community()
    response = client.post(
        URL, call(title="", requester_phone="99", community=other_community(street).pk, urgency="panic")
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"title", "requester_phone", "urgency"}
    response = client.post(URL, call(community=other_community(street).pk))
    assert set(response.context["form"].errors) == {"community"}
    assert Demand.objects.count() == 0


def test_consultation_answered_at_intake(client, operator):
    client.post(
        URL, call(demand_type="consult", title="居住证怎么办", answer="请携带身份证到社区服务站办理。")
    )
    demand = Demand.objects.get()
    assert demand.state == State.REPLIED
    assert demand.reply == "请携带身份证到社区服务站办理。"
    assert list(demand.events.values_list("action", flat=True)) == ["receive", "answer"]


def test_only_consultations_are_answered_at_intake(client, operator):
    response = client.post(URL, call(demand_type="complaint", answer="已告知"))
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["answer"]
    assert Demand.objects.count() == 0  # nothing half-written


def test_repeat_callers_are_shown_and_the_view_is_audited(client, operator, demo_world):
    older = [station_demand(requester_phone="13811112222", title=f"第{i}次反映") for i in range(3)]
    station_demand(requester_phone="13999999999", title="别人的诉求")
    response = client.get("/station/intake/caller/", {"requester_phone": "13811112222"})
    assert response.status_code == 200
    for demand in older:
        assert demand.number in response.text
    assert "别人的诉求" not in response.text
    assert "韩梅梅" in response.text  # the operator needs the name: shown, and logged
    logged = AuditEntry.objects.filter(action="view_personal", actor=operator)
    assert logged.count() == 3
    assert set(logged.values_list("object_id", flat=True)) == {str(d.pk) for d in older}
    assert logged.first().fields == ["requester_name", "requester_phone"]


def test_too_short_number_shows_nothing_and_logs_nothing(client, operator):
    station_demand(requester_phone="13811112222")
    response = client.get("/station/intake/caller/", {"requester_phone": "138"})
    assert "韩梅梅" not in response.text
    assert not AuditEntry.objects.filter(action="view_personal").exists()


def test_anonymous_caller(client, operator):
    client.post(URL, call(anonymous="on", requester_name="", requester_phone=""))
    demand = Demand.objects.get()
    assert demand.requester_kind == "anonymous" and demand.requester_phone == ""

"""Citizen submission: field-level validation, idempotency, anonymity, rate limiting."""

import pytest
from django.test import override_settings
from django.urls import reverse

from changxin.core.models import AuditEntry
from changxin.core.tests.builders import other_community, png_upload, street_and_community
from changxin.demands.models import Channel, Demand, DemandAttachment, RequesterKind
from changxin.demands.taxonomy import load_taxonomy
from changxin.station.tests.conftest import form_token

URL = "/station/submit/"


@pytest.fixture
def place(demo_world):
    return street_and_community()


def payload(place, **overrides):
    street, community = place
    data = {
        "token": form_token(),
        "demand_type": "complaint",
        "title": "小区路灯不亮",
        "content": "北门的路灯坏了一个星期，晚上很黑。",
        "street": street.pk,
        "community": community.pk,
        "address": "卢沟桥南里北门",
        "requester_name": "韩梅梅",
        "requester_phone": "13912345678",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def errors_of(response):
    return response.context["form"].errors


def test_urls_are_wired():
    assert reverse("station:home") == "/station/"
    assert reverse("station:submit") == URL


def test_home_and_form_render_for_anonymous_visitors(client, place):
    home = client.get("/station/")
    assert home.status_code == 200
    assert 'href="/station/submit/"' in home.text and 'href="/station/track/"' in home.text
    form = client.get(URL)
    assert form.status_code == 200
    street, community = place
    # 26 streets/towns of Fengtai in the select; no community options until a street is chosen
    assert form.context["form"].fields["street"].queryset.count() == 26
    assert form.context["form"].fields["community"].widget.choices == [("", "---------")]
    assert 'name="urgency"' not in form.text  # urgency is for operators only
    assert 'name="token"' in form.text


def test_valid_submission_creates_web_demand_and_shows_code(client, place):
    response = client.post(URL, payload(place))
    assert response.status_code == 302 and response.url == "/station/submit/done/"
    demand = Demand.objects.get()
    assert demand.channel == Channel.WEB
    assert demand.requester_user is None
    assert demand.street == place[0] and demand.community == place[1]
    done = client.get(response.url)
    assert demand.number in done.text and demand.tracking_code in done.text
    # name and phone are never shown back unmasked
    assert "13912345678" not in done.text and "韩梅梅" not in done.text
    assert "139****5678" in done.text and "韩**" in done.text


def test_submitted_page_without_a_submission_goes_home(client, db):
    response = client.get("/station/submit/done/")
    assert response.status_code == 302 and response.url == "/station/"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"title": ""}, "title"),
        ({"content": ""}, "content"),
        ({"demand_type": "gossip"}, "demand_type"),
        ({"requester_phone": "abc-123"}, "requester_phone"),
        ({"requester_phone": "1391234567"}, "requester_phone"),
        ({"requester_phone": ""}, "requester_phone"),
        ({"requester_name": ""}, "requester_name"),
        ({"street": None, "address": ""}, "street"),
        ({"street": "999999"}, "street"),
    ],
)
def test_each_bad_field_is_named(client, place, overrides, field):
    response = client.post(URL, payload(place, **overrides))
    assert response.status_code == 400
    assert field in errors_of(response), errors_of(response)
    assert 'aria-invalid="true"' in response.text
    assert Demand.objects.count() == 0


def test_community_outside_the_street_is_named_by_create_demand(client, place):
    street, _ = place
    response = client.post(URL, payload(place, community=other_community(street).pk))
    assert response.status_code == 400
    errors = errors_of(response)
    assert list(errors) == ["community"]
    assert Demand.objects.count() == 0


def test_the_community_select_follows_the_street(client, place):
    street, community = place
    response = client.get("/station/options/communities/", {"street": street.pk})
    assert f'value="{community.pk}"' in response.text
    assert response.text.count("<option") == street.children.count() + 1
    other = other_community(street)
    assert f'value="{other.pk}"' not in response.text
    # and the re-rendered form keeps the chosen street's communities only
    bad = client.post(URL, payload(place, title=""))
    shown = {value for value, _ in bad.context["form"].fields["community"].widget.choices}
    assert community.pk in shown and other.pk not in shown
    assert len(shown) == street.children.count() + 1


def test_category_search_returns_level3_options(client, place):
    load_taxonomy()  # seeded by a migration, but a transactional (browser) test may have flushed it
    response = client.get("/station/options/categories/", {"q": "噪音"})
    assert response.status_code == 200
    assert "噪音污染" in response.text
    assert response.text.count("<option") >= 2


def test_attachments_are_stored(client, place):
    data = payload(place)
    data["attachments"] = [png_upload("a.png"), png_upload("b.png")]
    response = client.post(URL, data)
    assert response.status_code == 302
    assert DemandAttachment.objects.filter(demand=Demand.objects.get()).count() == 2


def test_wrong_type_attachment_is_named(client, place):
    data = payload(place)
    fake = png_upload("report.exe")
    data["attachments"] = [png_upload("ok.png"), fake]
    response = client.post(URL, data)
    assert response.status_code == 400
    assert list(errors_of(response)) == ["attachments"]
    assert "report.exe" in errors_of(response)["attachments"][0]
    assert Demand.objects.count() == 0 and DemandAttachment.objects.count() == 0


def test_text_renamed_as_image_is_refused(client, place):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = payload(place)
    data["attachments"] = [
        SimpleUploadedFile("photo.jpg", b"just text, not a jpeg", content_type="image/jpeg")
    ]
    response = client.post(URL, data)
    assert list(errors_of(response)) == ["attachments"]


@override_settings(CHANGXIN_ATTACHMENT_MAX_BYTES=2048)
def test_oversize_attachment_is_named(client, place):
    data = payload(place)
    data["attachments"] = [png_upload("big.png", padding=4096)]
    response = client.post(URL, data)
    assert response.status_code == 400
    assert list(errors_of(response)) == ["attachments"]
    assert "big.png" in errors_of(response)["attachments"][0]
    assert Demand.objects.count() == 0


def test_resubmitting_the_same_form_returns_the_same_demand(client, place):
    data = payload(place)
    first = client.post(URL, data)
    first_page = client.get(first.url).text
    second = client.post(URL, data)  # double click / back-and-resubmit: same hidden token
    assert second.status_code == 302
    assert Demand.objects.count() == 1
    demand = Demand.objects.get()
    assert demand.tracking_code in first_page and demand.tracking_code in client.get(second.url).text
    # a fresh form gets a fresh token and so a new demand
    client.post(URL, payload(place))
    assert Demand.objects.count() == 2


def test_anonymous_keeps_no_name_or_phone(client, place):
    response = client.post(URL, payload(place, anonymous="on"))
    assert response.status_code == 302
    demand = Demand.objects.get()
    assert demand.requester_kind == RequesterKind.ANONYMOUS
    assert demand.requester_name == "" and demand.requester_phone == ""
    done = client.get(response.url).text
    assert "韩" not in done and "5678" not in done
    track = client.get(f"/station/track/{demand.tracking_code}/").text
    assert "韩" not in track and "5678" not in track


def test_anonymous_needs_no_contact(client, place):
    response = client.post(URL, payload(place, anonymous="on", requester_name="", requester_phone=""))
    assert response.status_code == 302


def test_signed_in_citizen_owns_the_demand(client, place, demo_world):
    client.force_login(demo_world["citizen"])
    client.post(URL, payload(place))
    demand = Demand.objects.get()
    assert demand.requester_user == demo_world["citizen"]
    assert demand.created_by == demo_world["citizen"]
    home = client.get("/station/")
    assert demand.number in home.text  # "my demands"


def test_enterprise_user_files_as_enterprise(client, place, demo_world):
    client.force_login(demo_world["enterprise"])
    client.post(URL, payload(place))
    demand = Demand.objects.get()
    assert demand.requester_user == demo_world["enterprise"]
    assert demand.requester_kind == RequesterKind.ENTERPRISE


@override_settings(CHANGXIN_STATION_SUBMIT_RATE="3/h")
def test_submissions_are_rate_limited_per_ip(client, place):
    for _ in range(3):
        assert client.post(URL, payload(place)).status_code == 302
    blocked = client.post(URL, payload(place))
    assert blocked.status_code == 429
    assert blocked.context["form"].non_field_errors()
    assert Demand.objects.count() == 3
    # another address is not affected; reading the form is never limited
    assert client.get(URL).status_code == 200
    other = client.post(URL, payload(place), REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 302


def test_submission_is_audited(client, place):
    client.post(URL, payload(place))
    assert AuditEntry.objects.filter(action="create", actor=None).count() == 1


def test_street_may_be_left_to_triage_when_the_address_says_where(client, place):
    response = client.post(URL, payload(place, street=None, community=None, address="小瓦窑西里北侧工地"))
    assert response.status_code == 302, errors_of(response)
    demand = Demand.objects.get()
    assert demand.street is None and demand.address == "小瓦窑西里北侧工地"


@override_settings(CHANGXIN_STATION_SUBMIT_RATE="3/h")
def test_failed_submissions_do_not_count_towards_the_limit(client, place):
    for _ in range(10):  # ten tries with a mistyped phone number
        assert client.post(URL, payload(place, requester_phone="12345678901")).status_code == 400
    assert client.post(URL, payload(place)).status_code == 302
    assert Demand.objects.count() == 1


@override_settings(CHANGXIN_STATION_SUBMIT_RATE="1/h")
def test_a_limited_submission_keeps_its_content_and_says_when_to_retry(client, place):
    assert client.post(URL, payload(place)).status_code == 302
    blocked = client.post(
        URL, {**payload(place, title="第二件事：楼道堆物"), "attachments": png_upload()}, format="multipart"
    )
    assert blocked.status_code == 429
    html = blocked.content.decode()
    assert 'value="第二件事：楼道堆物"' in html  # the form comes back filled in
    (message,) = blocked.context["form"].non_field_errors()
    assert "分钟" in message and "12345" in message  # when to try again, and the phone for urgent things
    assert 'id="attachments-dropped"' in html  # the photo must be chosen again, and the page says so
    assert "请修正标出的字段" not in html
    assert Demand.objects.count() == 1


def test_an_enterprise_files_with_its_name_credit_code_and_contact(client, place, demo_world):
    user = demo_world["enterprise"]
    user.full_name, user.phone = "杨帆", "13600000001"
    user.save(update_fields=["full_name", "phone"])
    client.force_login(user)
    form_html = client.get(URL).content.decode()
    assert 'id="enterprise-fields"' in form_html and 'name="credit_code"' in form_html
    assert 'value="杨帆"' in form_html and 'name="anonymous"' not in form_html
    data = payload(place, requester_name="杨帆", requester_phone="13600000001")
    refused = client.post(
        URL, {**data, "enterprise_name": "丰台某科技有限公司", "credit_code": "91350100M000100Y44"}
    )
    assert refused.status_code == 400 and "credit_code" in errors_of(refused)
    response = client.post(
        URL, {**data, "enterprise_name": "丰台某科技有限公司", "credit_code": "91350100m000100y43"}
    )
    assert response.status_code == 302
    demand = Demand.objects.get()
    assert (
        demand.enterprise_name == "丰台某科技有限公司" and demand.requester_kind == RequesterKind.ENTERPRISE
    )
    assert demand.content.endswith("统一社会信用代码：91350100M000100Y43")
    # next time the enterprise's name is filled in
    assert 'value="丰台某科技有限公司"' in client.get(URL).content.decode()

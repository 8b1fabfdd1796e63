"""Safety of the record: nobody deletes a demand or its history, and demand admin inlines are scoped."""

import pytest
from django.contrib import admin
from django.db.models import ProtectedError
from django.urls import reverse

from changxin.core.models import AuditEntry, Role
from changxin.core.tests.builders import (
    CHENGGUAN,
    LUGOUQIAO,
    ZHUJIAN,
    make_user,
    new_demand,
    purge_demands,
    unit,
)
from changxin.demands.models import (
    Demand,
    DemandAttachment,
    DemandEvent,
    DemandTask,
    RecordIsPermanent,
)
from changxin.demands.services import transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(demo_world):
    return make_user("root", Role.ADMIN, unit("110106"), is_superuser=True, is_staff=True)


@pytest.fixture
def demand(demo_world):
    return new_demand(demo_world["dispatcher"], street_code=LUGOUQIAO)


def test_model_layer_refuses_every_delete(demand):
    with pytest.raises(RecordIsPermanent, match="archive"):
        demand.delete()
    with pytest.raises(RecordIsPermanent):
        Demand.objects.filter(pk=demand.pk).delete()
    with pytest.raises(RecordIsPermanent):
        Demand.objects.all().delete()
    with pytest.raises(RecordIsPermanent):
        demand.events.first().delete()
    with pytest.raises(RecordIsPermanent):
        DemandEvent.objects.filter(demand=demand).delete()
    with pytest.raises(RecordIsPermanent):
        DemandTask.objects.filter(demand=demand).delete()
    with pytest.raises(RecordIsPermanent):
        DemandAttachment.objects.all().delete()
    assert Demand.objects.filter(pk=demand.pk).exists()
    assert DemandEvent.objects.filter(demand=demand).count() == 2
    assert DemandTask.objects.filter(demand=demand).count() == 1


def test_history_rows_protect_their_demand(demand):
    """Even Django's collector (the path a raw base-manager delete takes) stops at the history."""
    with pytest.raises(ProtectedError):
        Demand._base_manager.filter(pk=demand.pk).delete()
    assert Demand.objects.filter(pk=demand.pk).exists()


def test_test_purge_still_empties_the_tables(demand):
    purge_demands()
    assert not Demand.objects.exists() and not DemandEvent.objects.exists()


@pytest.mark.parametrize("who", ["superuser", "district_admin"])
def test_admin_refuses_to_delete_a_demand(client, demo_world, superuser, demand, who):
    client.force_login(superuser if who == "superuser" else demo_world["admin"])
    delete_url = reverse("admin:demands_demand_delete", args=[demand.pk])
    assert client.get(delete_url).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403

    changelist = reverse("admin:demands_demand_changelist")
    page = client.get(changelist)
    assert page.status_code == 200
    action_form = page.context["action_form"]  # None: no action at all is offered
    offered = [name for name, _label in action_form.fields["action"].choices] if action_form else []
    assert "delete_selected" not in offered
    bulk = client.post(
        changelist, {"action": "delete_selected", "_selected_action": [demand.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)  # Django answers "no action selected"
    change = client.get(reverse("admin:demands_demand_change", args=[demand.pk]))
    assert change.status_code == 200 and delete_url not in change.content.decode()
    assert Demand.objects.filter(pk=demand.pk).exists()
    assert DemandEvent.objects.filter(demand=demand).count() == 2


@pytest.mark.parametrize(
    "model", [Demand, DemandEvent, DemandTask, DemandAttachment, AuditEntry], ids=lambda m: m.__name__
)
def test_no_admin_may_delete_the_record(rf, demo_world, superuser, model):
    registered = admin.site._registry.get(model)
    inlines = [
        inline(parent.model, admin.site)
        for parent in admin.site._registry.values()
        for inline in parent.inlines
        if inline.model is model
    ]
    assert registered or inlines, f"{model.__name__} is neither registered nor an inline"
    for user in (superuser, demo_world["admin"]):
        request = rf.get("/admin/")
        request.user = user
        for model_admin in [registered, *inlines]:
            if model_admin is None:
                continue
            assert not model_admin.has_delete_permission(request)
            if registered is model_admin:
                assert "delete_selected" not in model_admin.get_actions(request)


def test_demand_admin_inlines_show_only_rows_in_scope(client, demo_world):
    """The inline lists the tasks as the demand's scope does (scope.through): every unit taking part
    sees who else does, as on the detail page and in the API; a unit outside gets 404."""
    operator = demo_world["dispatcher"]
    demand = new_demand(operator)
    transition(
        demand, "dispatch", operator, lead_unit=unit(LUGOUQIAO).pk, co_units=[unit(CHENGGUAN), unit(ZHUJIAN)]
    )
    url = reverse("admin:demands_demand_change", args=[demand.pk])

    def task_units(username):
        client.force_login(demo_world[username])
        response = client.get(url)
        assert response.status_code == 200
        formset = next(f for f in response.context["inline_admin_formsets"] if f.opts.model is DemandTask)
        return sorted(form.original.unit.code for form in formset)

    everyone = sorted([LUGOUQIAO, CHENGGUAN, ZHUJIAN])
    assert task_units("chengguan") == everyone
    assert task_units("zhujian") == everyone
    assert task_units("lugouqiao") == sorted([LUGOUQIAO, CHENGGUAN, ZHUJIAN])
    assert task_units("admin") == sorted([LUGOUQIAO, CHENGGUAN, ZHUJIAN])
    client.force_login(demo_world["changxindian"])
    assert client.get(url).status_code == 404

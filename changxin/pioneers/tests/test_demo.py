"""The party demo: built through the services, idempotent, every point traced to its source."""

from io import StringIO

import pytest

from changxin.core.demodata import demo_data
from changxin.core.models import OrgUnit, User
from changxin.pioneers.demo import demo_id_number, load_demo
from changxin.pioneers.importer import id_number
from changxin.pioneers.ledger import audit_points
from changxin.pioneers.models import DevelopmentCase, PartyMember, PartyOrganisation

pytestmark = pytest.mark.django_db


def test_demo_data_files_are_consistent(demo_world):
    data = demo_data("pioneers", "organisations.json")
    keys = {o["key"] for o in data["organisations"]}
    for org in data["organisations"]:
        assert OrgUnit.objects.filter(code=org["unit"]).exists(), org
        assert org.get("parent") in keys | {None}
    for member in data["members"]:
        assert member["org"] in keys
        assert not member.get("login") or User.objects.filter(username=member["login"]).exists()
        assert OrgUnit.objects.filter(
            code__in=member.get("areas", []), kind__in=["community", "village"]
        ).count() == len(member.get("areas", []))


def test_demo_builds_the_wing_through_the_services_once(demo_world):
    out = StringIO()
    load_demo(out)
    load_demo(StringIO())
    assert "refused: activist_one_year" in out.getvalue()
    assert PartyOrganisation.objects.count() == 9
    assert PartyMember.objects.filter(user__username__in=["lugouqiao", "manager"]).count() == 2
    stages = set(DevelopmentCase.objects.values_list("stage", flat=True))
    assert stages == {"applicant", "activist", "target", "probationary", "full"}
    assert audit_points().mismatches == 0


def test_demo_id_numbers_are_well_formed():
    import datetime as dt

    number = demo_id_number("110106", dt.date(1990, 1, 1), 7)
    assert id_number(number) == number

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


def test_demo_branch_life_dues_transfer_and_volunteering(demo_world):
    from changxin.pioneers import branch_life
    from changxin.pioneers.models import DuesPayment, Meeting, PointEntry, Transfer, VolunteerSignup

    out = StringIO()
    load_demo(out)
    assert "demo branch life" in out.getvalue()
    meetings = Meeting.objects.count()
    assert meetings > 100
    org = PartyOrganisation.objects.get(name="丽泽商务区楼宇联合党支部")
    from django.utils import timezone

    today = timezone.localdate()
    flagged = (
        branch_life.compliance(org, today.year).missed + branch_life.compliance(org, today.year - 1).missed
    )
    assert flagged > 0, "the weak branch shows missed meetings"
    from changxin.pioneers.models import Attendance

    absent = Attendance.objects.filter(present=False)
    assert absent.exists() and not absent.filter(absence_reason="").exists()
    assert DuesPayment.objects.exists()
    assert Transfer.objects.filter(state="issued").count() == 1
    assert VolunteerSignup.objects.filter(checked_in_at__isnull=False).count() == 2
    volunteer_points = PointEntry.objects.filter(source_stream="volunteering")
    assert volunteer_points.count() == 2 and all(e.source_event_id for e in volunteer_points)
    load_demo(StringIO())  # idempotent
    assert Meeting.objects.count() == meetings
    result = audit_points()
    assert result.mismatches == 0, result.problems


def test_demo_branch_data_refers_to_demo_organisations_and_logins(demo_world):
    orgs = {o["key"] for o in demo_data("pioneers", "organisations.json")["organisations"]}
    data = demo_data("pioneers", "branch_life.json")
    assert set(data["branches"]) <= orgs and data["transfer"]["to"] in orgs
    for activity in data["activities"]:
        assert activity["org"] in orgs
        assert set(activity["checkins"]) <= set(activity["signups"])
        assert User.objects.filter(username__in=activity["signups"]).count() == len(activity["signups"])


def test_demo_posts_sessions_and_honours(demo_world):
    from changxin.pioneers.models import Honour, SharingSession, VanguardPost

    out = StringIO()
    load_demo(out)
    assert "demo honours" in out.getvalue()
    assert VanguardPost.objects.exists() and SharingSession.objects.exists()
    assert all(p.members.exists() for p in VanguardPost.objects.all())
    honours = Honour.objects.all()
    if honours:  # honours come from the year's ranking: the demand demo's handled demands
        assert {h.state for h in honours} <= {"published", "nominated"}
        published = honours.filter(state="published").first()
        assert published is None or published.decided_by.username == "party_review"
    counts = (VanguardPost.objects.count(), SharingSession.objects.count(), Honour.objects.count())
    load_demo(StringIO())  # idempotent
    assert (VanguardPost.objects.count(), SharingSession.objects.count(), Honour.objects.count()) == counts

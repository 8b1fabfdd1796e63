"""Appeals (申诉) against a ranking figure: the unit submits, the centre decides with a note; shown
beside the figure; a closed month's snapshot is not changed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from changxin.core.tests.builders import CHANGXINDIAN, LUGOUQIAO, at
from changxin.core.workflow import WorkflowError
from changxin.demands.models import AppealState, RankingAppeal
from changxin.insight import appeals

MARCH = dt.date(2025, 3, 1)


def test_the_unit_appeals_and_the_centre_decides_with_a_note(client, world):
    t = at(4, 10)
    world.handle(world.new(t), LUGOUQIAO, t, resolution="resolved", satisfaction="dissatisfied")
    officer = world.officer(LUGOUQIAO)
    client.force_login(officer)
    page = client.get(reverse("insight:unit", args=[LUGOUQIAO]), {"month": "2025-03"}).content.decode()
    assert 'id="appeal-form"' in page
    response = client.post(
        reverse("insight:appeal", args=[LUGOUQIAO]),
        {
            "month": "2025-03",
            "metric": "satisfaction",
            "reason": "FT250304000001 诉求人对政策不满，非办理问题",
        },
    )
    assert response.status_code == 302
    appeal = RankingAppeal.objects.get()
    assert (appeal.unit.code, appeal.month, appeal.state) == (LUGOUQIAO, MARCH, AppealState.SUBMITTED)
    # shown beside the figure on the ranking page
    client.force_login(world.leader)
    html = client.get(reverse("insight:home"), {"month": "2025-03"}).content.decode()
    row = html.split(f'data-unit="{LUGOUQIAO}"', 1)[1].split("</tr>", 1)[0]
    assert "appeal-mark" in row
    # the unit cannot decide its own appeal; another unit cannot appeal Lugouqiao's figures
    assert not appeals.MACHINE.available(appeal, appeals.relations_of(officer))
    client.force_login(world.officer(CHANGXINDIAN))
    other = client.post(
        reverse("insight:appeal", args=[LUGOUQIAO]), {"month": "2025-03", "metric": "response", "reason": "x"}
    )
    assert other.status_code == 403
    # the centre decides: a note is required
    with pytest.raises(WorkflowError) as no_note:
        appeals.decide(appeal, "accept", world.operator, "")
    assert no_note.value.code == "note_required"
    client.force_login(world.operator)
    page = client.get(reverse("insight:unit", args=[LUGOUQIAO])).content.decode()
    assert 'name="do" value="accept"' in page and 'name="do" value="reject"' in page
    response = client.post(
        reverse("insight:appeal-decide", args=[appeal.pk, "accept"]), {"note": "经核实，予以剔除该评价"}
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.state == AppealState.ACCEPTED and appeal.decision_note == "经核实，予以剔除该评价"
    assert appeal.decided_by == world.operator
    with pytest.raises(WorkflowError):  # decided once
        appeals.decide(appeal, "reject", world.operator, "再议")
    page = client.get(reverse("insight:unit", args=[LUGOUQIAO])).content.decode()
    assert "经核实，予以剔除该评价" in page and 'name="do" value="accept"' not in page


def test_read_only_leadership_neither_appeals_nor_decides(client, world):
    appeal = appeals.submit(
        world.officer(LUGOUQIAO), world.unit(LUGOUQIAO), MARCH, "response", "联系记录漏录"
    )
    client.force_login(world.leader)
    assert (
        client.post(reverse("insight:appeal-decide", args=[appeal.pk, "reject"]), {"note": "x"}).status_code
        == 403
    )
    assert (
        client.post(
            reverse("insight:appeal", args=[LUGOUQIAO]),
            {"month": "2025-03", "metric": "response", "reason": "x"},
        ).status_code
        == 403
    )
    appeal.refresh_from_db()
    assert appeal.state == AppealState.SUBMITTED

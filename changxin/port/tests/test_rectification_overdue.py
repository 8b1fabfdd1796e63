"""一码检查: a rectification (整改) past its deadline is flagged by the periodic job, the inspecting
department is told once per deadline, and a failed re-check's new deadline is watched again."""

from __future__ import annotations

import datetime as dt

import pytest

from changxin.core.models import AuditEntry
from changxin.notifications.models import Notification
from changxin.port import inspections, tasks
from changxin.port.models import InspectionEvent, InspectionState
from changxin.port.tests.test_inspections import MARKET, plan, register, soon
from changxin.port.tests.test_inspections import world as world  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def rectifying(world):
    day = soon(1)
    plan(MARKET, world["ours"], day)
    inspection = register(world["market"], world["ours"], day)
    inspections.act(inspection, "start", world["market"], now=day + dt.timedelta(minutes=5))
    inspections.record_result(
        inspection,
        world["market"],
        result="findings",
        findings="消防通道堵塞",
        needs_rectification=True,
        now=day,
    )
    inspection.refresh_from_db()
    assert inspection.state == InspectionState.RECTIFYING
    return inspection


def told(kind="port.rectification_overdue"):
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__username", "key"))


def test_flagged_once_and_the_department_told(world):
    inspection = rectifying(world)
    due = inspection.rectification_due
    assert inspections.flag_overdue_rectifications(today=due) == 0  # due today: not late yet
    assert inspections.flag_overdue_rectifications(today=due + dt.timedelta(days=1)) == 1
    inspection.refresh_from_db()
    assert inspection.rectification_overdue
    recipients = {name for name, _key in told()}
    assert "inspector" in recipients  # the department's inspector
    assert not recipients & {"enterprise", "manager", "inspector_env"}  # not the enterprise, not others
    # idempotent: a rerun (or the job) writes nothing twice
    assert inspections.flag_overdue_rectifications(today=due + dt.timedelta(days=5)) == 0
    assert tasks.flag_overdue_rectifications() == {"overdue": 0}  # today: the deadline is weeks away
    assert len(told()) == len(recipients)
    assert InspectionEvent.objects.filter(inspection=inspection, action="rectification_overdue").count() == 1
    assert AuditEntry.objects.filter(detail__startswith="inspection rectification overdue").count() == 1


def test_a_failed_recheck_sets_a_new_deadline_watched_again(world):
    inspection = rectifying(world)
    first_due = inspection.rectification_due
    assert inspections.flag_overdue_rectifications(today=first_due + dt.timedelta(days=1)) == 1
    later = dt.datetime.combine(first_due + dt.timedelta(days=2), dt.time(10), tzinfo=soon().tzinfo)
    inspections.act(inspection, "recheck_fail", world["market"], note="仍未整改", now=later)
    inspection.refresh_from_db()
    assert inspection.rectification_due > first_due and not inspection.rectification_overdue
    assert inspections.flag_overdue_rectifications(today=inspection.rectification_due) == 0
    assert (
        inspections.flag_overdue_rectifications(today=inspection.rectification_due + dt.timedelta(days=1))
        == 1
    )
    keys = {key for _name, key in told()}
    assert len(keys) == 2  # one notification per deadline


def test_closed_or_rechecked_in_time_is_never_flagged(world):
    inspection = rectifying(world)
    due = inspection.rectification_due
    inspections.act(inspection, "recheck_pass", world["market"], note="已整改", now=soon(3))
    assert inspections.flag_overdue_rectifications(today=due + dt.timedelta(days=30)) == 0
    assert told() == []

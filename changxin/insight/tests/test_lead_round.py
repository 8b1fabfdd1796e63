"""The 三率's round stored on the demand (`lead_assigned_at`, `lead_first_contact_at`,
`lead_first_contact_on_time`) equals what the events say, however the demand was written: the
transition service (dispatch, dispute upheld or rejected, contact, reopen, contact again), the
importer (ORM path; the COPY path is compared row by row with it in demands/test_import_copy.py),
the generator, and migration 0016's fill of existing rows."""

from __future__ import annotations

import datetime as dt
import importlib
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef, Subquery

from changxin.core.tests.builders import CHANGXINDIAN, FENGTAI, LUGOUQIAO, at
from changxin.demands.models import Demand, DemandEvent
from changxin.demands.services import transition

H = dt.timedelta(hours=1)
FIELDS = ("lead_assigned_at", "lead_first_contact_at", "lead_first_contact_on_time")


def from_events() -> dict[int, tuple]:
    """Each demand's round as metrics.py derived it from the events before it was stored."""
    last_assignment = (
        DemandEvent.objects.filter(demand=OuterRef("pk"), action__in=("dispatch", "redispatch"))
        .order_by("-at", "-id")
        .values("at")[:1]
    )
    contacts = DemandEvent.objects.filter(
        demand=OuterRef("pk"), action="contact", at__gte=OuterRef("e_assigned")
    ).order_by("at", "id")
    rows = (
        Demand.objects.alias(e_assigned=Subquery(last_assignment))
        .annotate(
            e_assigned_at=Subquery(last_assignment),
            e_first=Subquery(contacts.values("pk")[:1]),
            e_first_at=Subquery(contacts.values("at")[:1]),
        )
        .annotate(e_on_time=Exists(DemandEvent.objects.filter(pk=OuterRef("e_first"), data__on_time=True)))
        .values_list("pk", "e_assigned_at", "e_first_at", "e_on_time")
    )
    return {pk: (assigned, first, on_time if first else None) for pk, assigned, first, on_time in rows}


def stored() -> dict[int, tuple]:
    return {pk: tuple(values) for pk, *values in Demand.objects.values_list("pk", *FIELDS)}


def test_the_engine_keeps_the_round_as_the_events_say(world):
    t = at(4, 10)
    w = world
    plain = w.handle(w.new(t), LUGOUQIAO, t, contact_after=3 * H, resolution="resolved", satisfaction="basic")
    late = w.handle(w.new(t), LUGOUQIAO, t, contact_after=48 * H)
    silent = w.handle(w.new(t), LUGOUQIAO, t, contact_after=None)
    upheld = w.new(t)
    w.dispatch(upheld, LUGOUQIAO, t)
    transition(upheld, "dispute", w.officer(LUGOUQIAO), note="不在辖区", reason="wrong_place", now=t + H)
    transition(upheld, "redispatch", w.operator, note="改派", lead_unit=w.unit(CHANGXINDIAN), now=t + 2 * H)
    w.handle(upheld, CHANGXINDIAN, t + 2 * H, contact_after=H)
    rejected = w.new(t)
    w.dispatch(rejected, LUGOUQIAO, t)
    transition(rejected, "dispute", w.officer(LUGOUQIAO), note="非我职责", reason="not_our_duty", now=t + H)
    transition(rejected, "reject_dispute", w.operator, note="属地责任", now=t + 2 * H)
    transition(rejected, "contact", w.officer(LUGOUQIAO), note="电话联系", now=t + 50 * H)
    reopened = w.handle(w.new(t), FENGTAI, t, resolution="unresolved", satisfaction="dissatisfied")
    transition(reopened, "reopen", w.operator, note="重办", now=at(6, 10))
    officer = w.officer(FENGTAI)
    transition(reopened, "acknowledge", officer, now=at(6, 11))
    transition(reopened, "contact", officer, note="再次联系", now=at(10, 11))
    undispatched = w.new(t)

    derived, kept = from_events(), stored()
    assert kept == derived
    for demand in (plain, late, upheld, rejected, reopened):
        assert kept[demand.pk][0] is not None and kept[demand.pk][1] is not None
    assert kept[plain.pk][2] is True and kept[late.pk][2] is False and kept[rejected.pk][2] is False
    assert kept[silent.pk][1:] == (None, None) and kept[undispatched.pk] == (None, None, None)
    assert kept[upheld.pk][0] == t + 2 * H  # the re-dispatch starts the round
    assert kept[reopened.pk][0] == t and kept[reopened.pk][2] is True  # 重办 keeps the first round


def test_the_generator_and_the_importer_store_the_round(world, tmp_path):
    from changxin.demands.generator import Options, generate
    from changxin.demands.importer import DemandImporter
    from changxin.demands.tests.test_import import HEADER_EN, row, write_csv

    generate(
        Options(
            demands=300,
            months=2,
            seed=9,
            end=dt.datetime(2025, 6, 20, 18, tzinfo=ZoneInfo("Asia/Shanghai")),
            batch_size=120,
        ),
        workers=0,
    )
    rows = [
        row("H1"),  # contacted on time
        row("H2", contacted_at="2024-03-04 14:00", replied_at="2024-03-05 16:00"),  # late
        row("H3", contacted_at=""),
        row("H4", lead_unit="", dispatched_at="", contacted_at=""),  # answered at intake
    ]
    result = DemandImporter(copy=False).run(write_csv(tmp_path / "h.csv", rows, header=HEADER_EN))
    assert result.ok, result.errors[:3]
    derived, kept = from_events(), stored()
    assert kept == derived
    assert sum(1 for v in kept.values() if v[0]) > 200 and sum(1 for v in kept.values() if v[2] is False) > 0


def test_the_migration_fills_existing_rows_from_the_events(world):
    t = at(4, 10)
    w = world
    w.handle(w.new(t), LUGOUQIAO, t, contact_after=3 * H, resolution="resolved", satisfaction="basic")
    w.handle(w.new(t), LUGOUQIAO, t, contact_after=48 * H)
    reopened = w.handle(w.new(t), FENGTAI, t, resolution="unresolved", satisfaction="dissatisfied")
    transition(reopened, "reopen", w.operator, note="重办", now=at(6, 10))
    w.new(t)
    expected = stored()
    Demand.objects.update(lead_assigned_at=None, lead_first_contact_at=None, lead_first_contact_on_time=None)
    migration = importlib.import_module("changxin.demands.migrations.0016_lead_round")
    from django.apps import apps

    migration.fill(apps, SimpleNamespace(connection=connection))  # what RunPython hands it
    assert stored() == expected == from_events()


@pytest.fixture
def world(db):
    from changxin.core.tests.builders import FengtaiWorld

    return FengtaiWorld()

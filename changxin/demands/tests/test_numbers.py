"""A demand's number is FT + its local received date + its id (six digits at least), made in the
INSERT itself on PostgreSQL (services._insert_numbered) and by an UPDATE elsewhere: the same text."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from changxin.demands import services
from changxin.demands.models import Demand


def expected(demand) -> str:
    return f"FT{timezone.localtime(demand.received_at):%y%m%d}{demand.pk:06d}"


@pytest.mark.django_db
def test_number_is_the_local_date_and_the_id(world):
    late = dt.datetime(2026, 3, 1, 17, 30, tzinfo=dt.UTC)  # 01:30 on 2 March in Beijing
    demand = world.demand(received_at=late)
    assert demand.number == expected(demand) and demand.number.startswith("FT260302")
    assert Demand.objects.get(pk=demand.pk).number == demand.number  # stored as shown
    data = {"demand_type": "complaint", "title": "路灯不亮", "content": "小区门口路灯坏了。"}
    given, _ = services.create_demand(data, actor=world.dispatcher, number="FT2603020001X")
    assert Demand.objects.get(pk=given.pk).number == given.number == "FT2603020001X"


@pytest.mark.django_db
def test_an_id_past_six_digits_is_not_cut(world):
    if connection.vendor != "postgresql":
        pytest.skip("the sequence is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('demands_demand', 'id'), 12345678)")
    demand = world.demand()
    assert demand.pk == 12345679
    assert Demand.objects.get(pk=demand.pk).number == demand.number == expected(demand)
    assert demand.number.endswith("12345679") and len(demand.number) == 2 + 6 + 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_each_get_their_own_id_in_the_number(world):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent connections need PostgreSQL")
    barrier, made, errors = threading.Barrier(6), [], []

    def intake():
        try:
            barrier.wait()
            for _ in range(5):
                made.append(world.demand().pk)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=intake) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(made) == 30
    for demand in Demand.objects.filter(pk__in=made):
        assert demand.number == expected(demand)

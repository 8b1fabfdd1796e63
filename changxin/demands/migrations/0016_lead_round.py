# The 三率's round stored on the demand (docs/PERFORMANCE.md "三率 ranking"): when the lead unit
# received it (the last dispatch/re-dispatch event) and that round's first contact with its on_time,
# which insight/metrics.py read instead of three correlated subqueries over the events per demand.
# Filled here from the events; the transition service, the importer and the generator keep them.
# The indexes (covering: the ranking reads a month by an index-only scan) are built concurrently on PostgreSQL (core/migration_operations.py), hence atomic = False;
# the fill runs in its own transaction.

from django.db import migrations, models, transaction
from django.db.models import Exists, OuterRef, Subquery

from changxin.core.migration_operations import AddIndexConcurrently

ASSIGN_ACTIONS = ("dispatch", "redispatch")

# one pass (each row written once): the last assignment per demand, then its round's first contact
# by the (demand, at) index
FILL_POSTGRES = """
UPDATE demands_demand d
   SET lead_assigned_at = r.assigned_at, lead_first_contact_at = r.contact_at,
       lead_first_contact_on_time = r.on_time
  FROM (SELECT a.demand_id, a.at AS assigned_at, c.at AS contact_at, c.on_time
          FROM (SELECT DISTINCT ON (demand_id) demand_id, at FROM demands_demandevent
                 WHERE action IN ('dispatch', 'redispatch') ORDER BY demand_id, at DESC, id DESC) a
          LEFT JOIN LATERAL (
                SELECT e.at, coalesce(e.data -> 'on_time' = 'true'::jsonb, false) AS on_time
                  FROM demands_demandevent e
                 WHERE e.demand_id = a.demand_id AND e.action = 'contact' AND e.at >= a.at
                 ORDER BY e.at, e.id LIMIT 1) c ON true) r
 WHERE r.demand_id = d.id
"""


def fill(apps, schema_editor):
    """Derive the three fields from the events (exactly what metrics.py computed from them)."""
    alias = schema_editor.connection.alias
    with transaction.atomic(using=alias):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(FILL_POSTGRES)
            return
        Demand = apps.get_model("demands", "Demand")
        DemandEvent = apps.get_model("demands", "DemandEvent")
        events = DemandEvent.objects.using(alias)
        last_assignment = (
            events.filter(demand=OuterRef("pk"), action__in=ASSIGN_ACTIONS).order_by("-at", "-id").values("at")[:1]
        )
        Demand.objects.using(alias).update(lead_assigned_at=Subquery(last_assignment))
        first = events.filter(
            demand=OuterRef("pk"), action="contact", at__gte=OuterRef("lead_assigned_at")
        ).order_by("at", "id")
        Demand.objects.using(alias).update(lead_first_contact_at=Subquery(first.values("at")[:1]))
        first_of_outer = events.filter(
            demand=OuterRef(OuterRef("pk")),
            action="contact",
            at__gte=OuterRef(OuterRef("lead_assigned_at")),
        ).order_by("at", "id")
        on_time = Exists(events.filter(pk=Subquery(first_of_outer.values("pk")[:1]), data__on_time=True))
        Demand.objects.using(alias).filter(lead_first_contact_at__isnull=False).update(
            lead_first_contact_on_time=on_time
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("demands", "0015_demand_type_proactive"),
    ]

    operations = [
        migrations.AddField(
            model_name="demand",
            name="lead_assigned_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="received by the lead unit at"),
        ),
        migrations.AddField(
            model_name="demand",
            name="lead_first_contact_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="first contact at"),
        ),
        migrations.AddField(
            model_name="demand",
            name="lead_first_contact_on_time",
            field=models.BooleanField(blank=True, null=True, verbose_name="first contact on time"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        AddIndexConcurrently(
            model_name="demand",
            index=models.Index(
                fields=["lead_assigned_at"],
                include=[
                    "id",
                    "lead_unit",
                    "master",
                    "demand_type",
                    "state",
                    "contact_due",
                    "contacted_at",
                    "reopen_count",
                    "lead_first_contact_at",
                    "lead_first_contact_on_time",
                    "resolution",
                    "satisfaction",
                    "rating_excluded",
                ],
                name="demand_lead_assigned_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="demandtask",
            index=models.Index(
                condition=models.Q(("role__in", ["co", "whistle"])),
                fields=["assigned_at"],
                include=["unit", "state", "due_at", "done_at"],
                name="demandtask_side_assigned_idx",
            ),
        ),
    ]

# Indexes for the hot paths measured in docs/PERFORMANCE.md (bench/explain_hot_paths.py).
# Built with CREATE INDEX CONCURRENTLY on PostgreSQL: intake keeps writing while they build
# (changxin/core/migration_operations.py); plain CREATE INDEX on SQLite. Hence atomic = False.

from django.db import migrations, models

from changxin.core.migration_operations import AddIndexConcurrently

OPEN = ["acknowledged", "contacted", "dispatched", "disputed", "in_progress", "received"]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("demands", "0013_merge_content_limit_and_station_flow"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="demand",
            index=models.Index(fields=["state", "received_at"], name="demand_state_received_idx"),
        ),
        AddIndexConcurrently(
            model_name="demand",
            index=models.Index(
                condition=models.Q(("state__in", OPEN)), fields=["finish_due"], name="demand_open_finish_idx"
            ),
        ),
        AddIndexConcurrently(
            model_name="demand",
            index=models.Index(
                condition=models.Q(("contacted_at__isnull", True), ("state__in", OPEN)),
                fields=["contact_due"],
                name="demand_open_contact_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="demandevent",
            index=models.Index(fields=["demand", "at"], name="demandevent_demand_at_idx"),
        ),
        AddIndexConcurrently(
            model_name="demandtask",
            index=models.Index(fields=["unit", "state", "due_at"], name="demandtask_unit_state_due_idx"),
        ),
    ]

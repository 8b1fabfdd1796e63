"""The default point rules (先锋者上): configurable afterwards in the admin."""

from decimal import Decimal

from django.db import migrations

# the defaults are data kept in the ledger module (ledger.DEFAULT_RULES), also used by
# ledger.ensure_default_rules() after a test database flush
from changxin.pioneers.ledger import DEFAULT_RULES as RULES  # noqa: E402


def add_rules(apps, schema_editor):
    PointRule = apps.get_model("pioneers", "PointRule")
    for code, name, kind, action, match, points in RULES:
        PointRule.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "stream": "demands",
                "action": action,
                "match": match,
                "points": Decimal(points),
            },
        )


def remove_rules(apps, schema_editor):
    apps.get_model("pioneers", "PointRule").objects.filter(code__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("pioneers", "0001_party_organisations_members_pipeline_points")]

    operations = [migrations.RunPython(add_rules, remove_rules)]

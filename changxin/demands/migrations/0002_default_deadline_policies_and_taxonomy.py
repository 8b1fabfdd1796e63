"""Seed the RULES.md default deadline policies and the default 3-level category tree."""

import csv
from pathlib import Path

from django.db import migrations

POLICIES = [
    ("", "normal", 1, "working_days", 7, "working_days"),
    ("", "urgent", 2, "clock_hours", 24, "clock_hours"),
    ("", "utility", 2, "clock_hours", 24, "clock_hours"),
    ("consult", "normal", 1, "working_days", 1, "working_days"),
]
TAXONOMY = Path(__file__).resolve().parent.parent / "data" / "taxonomy.csv"


def seed(apps, schema_editor):
    DeadlinePolicy = apps.get_model("demands", "DeadlinePolicy")
    Category = apps.get_model("demands", "Category")
    for d_type, urgency, c_amount, c_unit, f_amount, f_unit in POLICIES:
        DeadlinePolicy.objects.get_or_create(
            demand_type=d_type, urgency=urgency,
            defaults=dict(contact_amount=c_amount, contact_unit=c_unit, finish_amount=f_amount,
                          finish_unit=f_unit, max_extension_days=15),
        )
    cache = {}

    def get(parent, name, level):
        key = (parent.pk if parent else None, name)
        if key not in cache:
            full = f"{parent.full_name} / {name}" if parent else name
            cache[key], _ = Category.objects.get_or_create(
                parent=parent, name=name, defaults={"level": level, "full_name": full}
            )
        return cache[key]

    with open(TAXONOMY, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            top = get(None, row["level1"].strip(), 1)
            if row["level2"].strip():
                mid = get(top, row["level2"].strip(), 2)
                if row["level3"].strip():
                    get(mid, row["level3"].strip(), 3)


def unseed(apps, schema_editor):
    apps.get_model("demands", "DeadlinePolicy").objects.all().delete()
    Category = apps.get_model("demands", "Category")
    for level in (3, 2, 1):
        Category.objects.filter(level=level, demands__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("demands", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]

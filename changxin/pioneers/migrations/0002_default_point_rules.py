"""The default point rules (先锋者上): configurable afterwards in the admin."""

from decimal import Decimal

from django.db import migrations

RULES = [
    # code, name, kind, action, match, points
    ("reply_on_time", "按时办结答复", "service", "reply", {"on_time": True}, "2"),
    ("reply_late", "超期答复", "service", "reply", {"on_time": False}, "-1"),
    ("visit_satisfied", "回访满意", "service", "return_visit", {"satisfaction": "satisfied"}, "3"),
    ("visit_basic", "回访基本满意", "service", "return_visit", {"satisfaction": "basic"}, "1"),
    ("visit_dissatisfied", "回访不满意", "service", "return_visit", {"satisfaction": "dissatisfied"}, "-1"),
    ("whistle_done_on_time", "吹哨报到按时完成", "hardship", "task_complete", {"on_time": True}, "2"),
]


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

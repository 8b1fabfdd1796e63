"""The investment-project pipeline per functional zone: projects and amounts by stage (the chart,
the table and the CSV of the board page), of the projects the viewer may see."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum

from changxin.port.models import Stage, Zone
from changxin.port.selectors import projects_visible_to


def pipeline(user, zone: str = "") -> list[dict]:
    """One row per zone: {"zone", "label", "counts": {stage: n}, "amounts": {stage: 万元}, "total"}."""
    qs = projects_visible_to(user).order_by()
    if zone:
        qs = qs.filter(zone=zone)
    cells = qs.values("zone", "stage").annotate(n=Count("pk"), amount=Sum("amount"))
    rows = {
        value: {
            "zone": value,
            "label": str(label),
            "counts": dict.fromkeys(Stage.values, 0),
            "amounts": dict.fromkeys(Stage.values, Decimal(0)),
            "total": 0,
        }
        for value, label in Zone.choices
        if not zone or value == zone
    }
    for cell in cells:
        row = rows.get(cell["zone"])
        if row is None:
            continue
        row["counts"][cell["stage"]] = cell["n"]
        row["amounts"][cell["stage"]] = cell["amount"] or Decimal(0)
        row["total"] += cell["n"]
    for row in rows.values():
        row["count_list"] = [row["counts"][s] for s in Stage.values]
    return list(rows.values())


def chart_data(rows: list[dict]) -> dict:
    """What the ECharts stacked bar needs (json_script): zones, stages, counts per stage."""
    return {
        "zones": [r["label"] for r in rows],
        "stages": [str(label) for _v, label in Stage.choices],
        "series": [[r["counts"][stage] for r in rows] for stage in Stage.values],
    }

"""Loading the 3-level category tree."""

from __future__ import annotations

import csv
from pathlib import Path

from django.db import transaction

from changxin.demands.models import Category

TAXONOMY_FILE = Path(__file__).resolve().parent / "data" / "taxonomy.csv"


@transaction.atomic
def load_taxonomy(path: Path = TAXONOMY_FILE) -> int:
    """Create missing categories from a level1,level2,level3 CSV. Idempotent; returns how many were created."""
    existing = {(c.parent_id, c.name): c for c in Category.objects.all()}
    created = 0

    def get(parent: Category | None, name: str, level: int) -> Category:
        nonlocal created
        key = (parent.pk if parent else None, name)
        if key not in existing:
            existing[key] = Category.objects.create(parent=parent, name=name, level=level)
            created += 1
        return existing[key]

    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            top = get(None, row["level1"].strip(), 1)
            if row.get("level2", "").strip():
                mid = get(top, row["level2"].strip(), 2)
                if row.get("level3", "").strip():
                    get(mid, row["level3"].strip(), 3)
    return created


def top_level_names() -> list[str]:
    return list(Category.objects.filter(level=1).order_by("name").values_list("name", flat=True))

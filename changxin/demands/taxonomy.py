"""Loading the 3-level category tree."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
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


SYNONYMS_FILE = Path(__file__).resolve().parent / "data" / "category_synonyms.json"


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    """{category full name: everyday words} from data/category_synonyms.json."""
    import json

    with open(SYNONYMS_FILE, encoding="utf-8") as handle:
        data = json.load(handle)
    return {name: tuple(words) for name, words in data.items() if not name.startswith("_")}


@dataclass(frozen=True)
class CategoryOption:
    category: Category
    matched: str  # the synonym that found it ("" when its own name did)


def search_categories(query: str, limit: int = 20) -> list[CategoryOption]:
    """Active categories whose name (at any level) or synonym contains `query`, or whose synonym is
    contained in it ("门口垃圾没人清运" finds 环境卫生 through 垃圾). Leaves (level 3) first."""
    query = (query or "").strip()
    if not query:
        return []
    by_name = {
        c.full_name: c
        for c in Category.objects.filter(is_active=True, level=3).select_related("parent__parent")
    }
    found: dict[int, CategoryOption] = {}
    for full_name, category in by_name.items():
        if query in full_name:
            found[category.pk] = CategoryOption(category, "")
    for full_name, words in synonyms().items():
        category = by_name.get(full_name)
        if category is None or category.pk in found:
            continue
        hit = next((w for w in words if query in w), None) or next((w for w in words if w in query), None)
        if hit:
            found[category.pk] = CategoryOption(category, hit)
    # named matches first, then synonym matches, each in the tree's order
    options = sorted(found.values(), key=lambda o: (bool(o.matched), o.category.full_name))
    return options[:limit]

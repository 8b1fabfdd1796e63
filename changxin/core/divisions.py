"""Loading a district's org tree from data files (statistical division codes)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from changxin.core.models import OrgUnit, UnitKind

DATA_DIR = Path(__file__).resolve().parent / "data"
# Shown on the unit page: in Chinese; where the files came from (an npm package) is in data/SOURCE.md.
NBS_SOURCE = "国家统计局 统计用区划和城乡划分代码（2023年）"


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


class _Upserter:
    """Creates or updates units level by level with a handful of queries (not one per row).

    New units of a level are bulk-created with their path computed here (bulk_create skips save());
    changed units go through save(), which re-paths their subtree when the parent changed.
    """

    def __init__(self, result: LoadResult):
        self.result = result
        self.existing = {unit.code: unit for unit in OrgUnit.objects.all()}
        self.pending: list[OrgUnit] = []

    def upsert(self, code: str, **values) -> OrgUnit:
        unit = self.existing.get(code)
        if unit is None:
            unit = OrgUnit(code=code, **values)
            unit.path = unit.compute_path()
            unit.depth = unit.path.count("/") - 2
            self.pending.append(unit)
            self.existing[code] = unit
            self.result.created += 1
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
            self.result.updated += 1
        else:
            self.result.unchanged += 1
        return unit

    def flush(self) -> None:
        """Write this level's new units; the next level needs their primary keys."""
        if self.pending:
            created = OrgUnit.objects.bulk_create(self.pending)
            if any(unit.pk is None for unit in created):  # a backend that returns no ids
                by_code = dict(
                    OrgUnit.objects.filter(code__in=[u.code for u in created]).values_list("code", "pk")
                )
                for unit in created:
                    unit.pk = by_code[unit.code]
            self.pending = []


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
    units = _Upserter(result)
    district = units.upsert(
        district_code, name=district_name, kind=UnitKind.DISTRICT, parent=None, source=NBS_SOURCE
    )
    units.flush()
    street_units: dict[str, OrgUnit] = {}
    for row in _read(streets):
        kind = UnitKind.TOWN if row["name"].endswith(("镇", "乡")) else UnitKind.STREET
        street_units[row["code"]] = units.upsert(
            row["code"], name=row["name"], kind=kind, parent=district, source=NBS_SOURCE
        )
    units.flush()
    for row in _read(communities):
        parent = street_units.get(row["street_code"])
        if parent is None:
            raise ValueError(f"community {row['code']} names unknown street_code {row['street_code']}")
        kind = UnitKind.VILLAGE if row["name"].endswith("村") else UnitKind.COMMUNITY
        units.upsert(row["code"], name=row["name"], kind=kind, parent=parent, source=NBS_SOURCE)
    if departments is not None and Path(departments).exists():
        for row in _read(departments):
            units.upsert(
                row["code"],
                name=row["name"],
                short_name=row.get("short_name", ""),
                kind=row.get("kind") or UnitKind.DEPARTMENT,
                parent=district,
                source="",
            )
    units.flush()
    return result

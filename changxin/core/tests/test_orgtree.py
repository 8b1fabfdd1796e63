"""The org tree: materialised paths, moving subtrees and the idempotent division load."""

import csv

import pytest

from changxin.core.divisions import DATA_DIR, load_divisions
from changxin.core.models import OrgUnit, UnitKind


def read_csv(name):
    with open(DATA_DIR / name, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def snapshot():
    return sorted(
        OrgUnit.objects.values_list("code", "name", "kind", "parent__code", "path", "depth", "source")
    )


@pytest.fixture
def tree(db):
    root = OrgUnit.objects.create(code="900", name="Root", kind=UnitKind.DISTRICT)
    a = OrgUnit.objects.create(code="901", name="A", kind=UnitKind.STREET, parent=root)
    b = OrgUnit.objects.create(code="902", name="B", kind=UnitKind.STREET, parent=root)
    a1 = OrgUnit.objects.create(code="901001", name="A1", kind=UnitKind.COMMUNITY, parent=a)
    a1x = OrgUnit.objects.create(code="901001X", name="A1x", kind=UnitKind.OTHER, parent=a1)
    return {"root": root, "a": a, "b": b, "a1": a1, "a1x": a1x}


def test_paths_and_depths_follow_the_codes(tree):
    assert tree["root"].path == "/900/" and tree["root"].depth == 0
    assert tree["a"].path == "/900/901/" and tree["a"].depth == 1
    assert tree["a1x"].path == "/900/901/901001/901001X/" and tree["a1x"].depth == 3
    assert tree["a"].is_ancestor_of(tree["a1x"]) and not tree["b"].is_ancestor_of(tree["a1x"])
    assert set(OrgUnit.objects.subtree_of(tree["a"]).values_list("code", flat=True)) == {
        "901",
        "901001",
        "901001X",
    }


def test_moving_a_unit_repaths_its_whole_subtree(tree):
    a1 = tree["a1"]
    a1.parent = tree["b"]
    a1.save()
    moved = {u.code: u for u in OrgUnit.objects.filter(code__in=["901001", "901001X"])}
    assert moved["901001"].path == "/900/902/901001/"
    assert moved["901001X"].path == "/900/902/901001/901001X/"
    assert moved["901001X"].depth == 3
    assert set(OrgUnit.objects.subtree_of(tree["a"]).values_list("code", flat=True)) == {"901"}
    assert set(OrgUnit.objects.subtree_of(tree["b"]).values_list("code", flat=True)) == {
        "902",
        "901001",
        "901001X",
    }
    # every stored path is what the parent chain says it should be
    for unit in OrgUnit.objects.all():
        assert unit.path == unit.compute_path()


def test_moving_up_a_level_changes_depths(tree):
    a1 = tree["a1"]
    a1.parent = tree["root"]
    a1.save()
    leaf = OrgUnit.objects.get(code="901001X")
    assert leaf.path == "/900/901001/901001X/" and leaf.depth == 2


def test_street_walks_up_to_the_street_or_town(tree):
    assert tree["a1x"].street() == tree["a"]
    assert tree["a"].street() == tree["a"]
    assert tree["root"].street() is None


def test_load_divisions_matches_the_csv_and_is_idempotent(db):
    streets = read_csv("fengtai_streets.csv")
    communities = read_csv("fengtai_communities.csv")
    departments = read_csv("fengtai_departments.csv")

    first = load_divisions()
    assert first.created == 1 + len(streets) + len(communities) + len(departments)
    assert first.updated == 0

    street_level = OrgUnit.objects.streets_and_towns()
    assert street_level.count() == 26 == len(streets)
    towns = set(street_level.filter(kind=UnitKind.TOWN).values_list("name", flat=True))
    assert towns == {"北宫镇", "王佐镇"}
    assert street_level.filter(kind=UnitKind.STREET).count() == 24
    assert dict(street_level.values_list("code", "name")) == {r["code"]: r["name"] for r in streets}

    grassroots = OrgUnit.objects.filter(kind__in=[UnitKind.COMMUNITY, UnitKind.VILLAGE])
    assert grassroots.count() == 440 == len(communities)
    stored = {u.code: (u.name, u.parent.code) for u in grassroots.select_related("parent")}
    assert stored == {r["code"]: (r["name"], r["street_code"]) for r in communities}
    for unit in grassroots.select_related("parent"):
        assert unit.path == f"/110106/{unit.parent.code}/{unit.code}/" and unit.depth == 2

    before = snapshot()
    second = load_divisions()
    assert (second.created, second.updated) == (0, 0)
    assert second.unchanged == first.created
    assert snapshot() == before


def test_reload_updates_a_renamed_unit_in_place(db, tmp_path):
    load_divisions()
    unit = OrgUnit.objects.get(code="110106011")
    pk = unit.pk
    rows = read_csv("fengtai_streets.csv")
    renamed = tmp_path / "streets.csv"
    with open(renamed, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["code", "name"])
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {"code": row["code"], "name": row["name"] + ("（新）" if row["code"] == "110106011" else "")}
            )
    result = load_divisions(streets=renamed)
    assert result.updated == 1 and result.created == 0
    unit = OrgUnit.objects.get(code="110106011")
    assert unit.pk == pk and unit.name == "长辛店街道（新）"


def test_unknown_street_code_is_refused_whole(db, tmp_path):
    bad = tmp_path / "communities.csv"
    bad.write_text("code,name,street_code\n110106999001,幽灵社区,110106999\n", encoding="utf-8")
    with pytest.raises(ValueError, match="110106999"):
        load_divisions(communities=bad)
    assert not OrgUnit.objects.exists()  # atomic: nothing half-loaded

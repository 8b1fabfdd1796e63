"""Location: resolve address text to a street/town and a community with a confidence.

The gazetteer holds every surface form of a place and the units it may mean:

* official names of streets/towns and communities/villages from the org tree (weight 1.0);
* their common short forms: 卢沟桥街道 → 卢沟桥, 北宫镇 → 北宫, 看丹社区 → 看丹…, only when at least three
  characters long (两字 forms such as 北区, 城南, 新城 are everyday words) and not on a list of generic
  forms (丰台 is in every address in the district; 新村 and 东大街 are common words) (weight 0.85);
* administrator-maintained `PlaceAlias` rows: compounds, landmarks, roads (weight 0.9);
* neutral forms that must swallow a shorter match (丰台区, 北京市) and the other Beijing districts,
  which lower the confidence when a text names one of them.

Matching is leftmost-longest over a dict keyed by surface (the text of a demand is a few hundred
characters and no surface is longer than ~20, so this is a few thousand dict probes: well under a
millisecond, no Aho-Corasick dependency needed). A community match implies its street; matches
that point at different streets split the vote and lower the confidence; a surface that means
communities in two streets (时村) counts half for each.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from changxin.core.models import OrgUnit
from changxin.core.roles import COMMUNITY_KINDS
from changxin.core.roles import STREET_LEVEL_KINDS as STREET_KINDS

OFFICIAL, SHORT, ALIAS = 1.0, 0.85, 0.9
CACHE_SECONDS = 300

# Short forms that are everyday words or that every Fengtai address contains.
GENERIC_SHORT_FORMS = frozenset(
    {
        "丰台",
        "新村",
        "北大街",
        "东大街",
        "东南街",
        "北里",
        "建设里",
        "光明里",
        "建国街",
        "电力机",
        "双石一",
        "双石二",
    }
)
NEUTRAL_FORMS = ("丰台区", "北京市丰台区", "北京市", "北京", "丰台区政府")
OTHER_DISTRICTS = (
    "东城区",
    "西城区",
    "朝阳区",
    "海淀区",
    "石景山区",
    "门头沟区",
    "房山区",
    "通州区",
    "顺义区",
    "昌平区",
    "大兴区",
    "怀柔区",
    "平谷区",
    "密云区",
    "延庆区",
)
_NEUTRAL, _OUTSIDE = "neutral", "outside"


@dataclass(frozen=True)
class Entry:
    """One meaning of a surface form."""

    unit_id: int | None  # None for neutral/outside forms
    street_id: int | None
    is_community: bool
    weight: float
    source: str  # "official" | "short" | "alias" | "neutral" | "outside"


@dataclass
class Match:
    surface: str
    start: int
    entries: list[Entry]


@dataclass
class Location:
    street_id: int | None = None
    street_name: str = ""
    community_id: int | None = None
    community_name: str = ""
    confidence: float = 0.0
    matches: list[str] = field(default_factory=list)
    candidates: list[tuple[str, float]] = field(default_factory=list)  # (street name, share of the vote)
    outside: bool = False

    @property
    def found(self) -> bool:
        return self.street_id is not None

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


class Gazetteer:
    def __init__(self, units, aliases):
        """`units`: (id, name, kind, street_id); `aliases`: (alias, unit_id)."""
        self.surfaces: dict[str, list[Entry]] = defaultdict(list)
        self.names: dict[int, str] = {}
        self.street_of: dict[int, int] = {}
        street_shorts: set[str] = set()
        communities = []
        for unit_id, name, kind, street_id in units:
            self.names[unit_id] = name
            if kind in STREET_KINDS:
                self.street_of[unit_id] = unit_id
                self._add(name, Entry(unit_id, unit_id, False, OFFICIAL, "official"))
                short = _strip(name, ("街道", "地区办事处", "镇", "乡"))
                if short != name and len(short) >= 2 and short not in GENERIC_SHORT_FORMS:
                    street_shorts.add(short)
                    self._add(short, Entry(unit_id, unit_id, False, SHORT, "short"))
            elif kind in COMMUNITY_KINDS and street_id:
                self.street_of[unit_id] = street_id
                communities.append((unit_id, name, street_id))
        for unit_id, name, street_id in communities:
            self._add(name, Entry(unit_id, street_id, True, OFFICIAL, "official"))
            for suffix in ("居委会", "社区居委会", "村委会"):
                self._add(name + suffix, Entry(unit_id, street_id, True, OFFICIAL, "official"))
            short = _strip(name, ("社区", "村"))
            if short != name and len(short) >= 3 and short not in GENERIC_SHORT_FORMS | street_shorts:
                self._add(short, Entry(unit_id, street_id, True, SHORT, "short"))
        for alias, unit_id in aliases:
            if unit_id in self.street_of:
                is_community = self.street_of[unit_id] != unit_id
                self._add(alias, Entry(unit_id, self.street_of[unit_id], is_community, ALIAS, "alias"))
        for form in NEUTRAL_FORMS:
            self.surfaces.setdefault(form, [Entry(None, None, False, 0.0, _NEUTRAL)])
        for form in OTHER_DISTRICTS:
            self.surfaces.setdefault(form, [Entry(None, None, False, 0.0, _OUTSIDE)])
        self.lengths = sorted({len(s) for s in self.surfaces}, reverse=True)

    def _add(self, surface: str, entry: Entry) -> None:
        surface = surface.strip()
        if len(surface) < 2:
            return
        entries = self.surfaces[surface]
        if not any(e.unit_id == entry.unit_id for e in entries):
            entries.append(entry)

    def scan(self, text: str) -> list[Match]:
        """Leftmost-longest matches of known surfaces in `text`."""
        matches: list[Match] = []
        i, n = 0, len(text)
        while i < n:
            for length in self.lengths:
                if i + length <= n:
                    entries = self.surfaces.get(text[i : i + length])
                    if entries:
                        matches.append(Match(text[i : i + length], i, entries))
                        i += length
                        break
            else:
                i += 1
        return matches

    def locate(self, *texts: str | tuple[str, float]) -> Location:
        """Resolve one or more texts (optionally with a weight each: the address counts more than
        the free text) to the most likely street/town and community."""
        street_votes: dict[int, float] = defaultdict(float)
        street_best: dict[int, float] = defaultdict(float)
        community_votes: dict[int, float] = defaultdict(float)
        matched: list[str] = []
        outside = False
        for item in texts:
            text, factor = item if isinstance(item, tuple) else (item, 1.0)
            for match in self.scan(text or ""):
                meanings = [e for e in match.entries if e.unit_id is not None]
                if not meanings:
                    outside = outside or match.entries[0].source == _OUTSIDE
                    continue
                matched.append(match.surface)
                streets = {e.street_id for e in meanings}
                for street_id in streets:
                    weight = max(e.weight for e in meanings if e.street_id == street_id) * factor
                    street_votes[street_id] += weight / len(streets)
                    street_best[street_id] = max(street_best[street_id], weight)
                communities = [e for e in meanings if e.is_community]
                for entry in communities:
                    community_votes[entry.unit_id] += entry.weight * factor / len(meanings)
        location = Location(matches=_unique(matched), outside=outside)
        if not street_votes:
            return location
        total = sum(street_votes.values())
        ranked = sorted(street_votes.items(), key=lambda kv: (-kv[1], kv[0]))
        street_id, votes = ranked[0]
        share = votes / total
        confidence = street_best[street_id] * share
        if len(ranked) > 1 and ranked[1][1] == votes:
            confidence = min(confidence, 0.5)  # a tie: the first is no better than a guess
        if outside:
            confidence *= 0.6
        location.street_id, location.street_name = street_id, self.names[street_id]
        location.candidates = [(self.names[s], round(v / total, 2)) for s, v in ranked[:3]]
        in_street = [(c, v) for c, v in community_votes.items() if self.street_of[c] == street_id]
        if in_street:
            in_street.sort(key=lambda cv: (-cv[1], cv[0]))
            community_id, community_votes_best = in_street[0]
            if len(in_street) == 1 or in_street[1][1] < community_votes_best:
                location.community_id = community_id
                location.community_name = self.names[community_id]
                confidence = min(1.0, confidence + 0.05)  # a named community pins the street down
        location.confidence = round(confidence, 3)
        return location


def _strip(name: str, suffixes) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _unique(items):
    return list(dict.fromkeys(items))


# --- the process-wide gazetteer, rebuilt when units or aliases change ----------------------------

_lock = threading.Lock()
_cache: dict[str, object] = {"gazetteer": None, "built": 0.0}


def build() -> Gazetteer:
    from changxin.triage.models import PlaceAlias

    units = OrgUnit.objects.filter(
        is_active=True, kind__in=STREET_KINDS + COMMUNITY_KINDS, parent__isnull=False
    ).values_list("id", "name", "kind", "parent_id")
    aliases = PlaceAlias.objects.filter(is_active=True, unit__is_active=True).values_list("alias", "unit_id")
    return Gazetteer(list(units), list(aliases))


def _fingerprint() -> tuple:
    """One cheap query's worth of summary: units or aliases added or removed (also by bulk loads,
    which send no signals, and in other processes) change it."""
    from django.db.models import Count, Max

    from changxin.triage.models import PlaceAlias

    units = OrgUnit.objects.aggregate(n=Count("id"), last=Max("id"))
    aliases = PlaceAlias.objects.aggregate(n=Count("id"), last=Max("id"))
    return (units["n"], units["last"], aliases["n"], aliases["last"])


def get_gazetteer() -> Gazetteer:
    """The cached gazetteer, rebuilt when the units or aliases change: saving an OrgUnit or a
    PlaceAlias clears it in this process (signals in apps.py); additions and removals anywhere change
    the fingerprint; edits in other processes are picked up within CACHE_SECONDS."""
    key = _fingerprint()
    with _lock:
        gazetteer = _cache["gazetteer"]
        stale = time.monotonic() - _cache["built"] > CACHE_SECONDS or _cache.get("key") != key
        if gazetteer is None or stale:
            gazetteer = build()
            _cache["gazetteer"], _cache["built"], _cache["key"] = gazetteer, time.monotonic(), key
        return gazetteer


def invalidate(*args, **kwargs) -> None:
    with _lock:
        _cache["gazetteer"] = None


def locate(address: str = "", text: str = "") -> Location:
    """Locate a demand from its address (full weight) and its title/content (weight 0.8)."""
    texts: list[tuple[str, float]] = []
    if address:
        texts.append((address, 1.0))
    if text:
        texts.append((text, 0.8))
    return get_gazetteer().locate(*texts)


# --- seed aliases -------------------------------------------------------------------------------
# Well-known Fengtai places and the unit they lie in (statistical codes). Only places whose unit
# we could back with the official division list (a community of that name lies in that street) or
# with the place's published address are listed; the rest is for administrators to add.
# (alias, kind, unit code, basis)
SEED_ALIASES = [
    ("新发地", "landmark", "110106018", "新发地村 is a village of 花乡街道"),
    ("新发地市场", "landmark", "110106018", "新发地村, 花乡街道"),
    ("新发地农产品批发市场", "landmark", "110106018", "新发地村, 花乡街道"),
    ("世界公园", "landmark", "110106018", "address: 丰台区花乡丰葆路158号"),
    ("首都经济贸易大学", "landmark", "110106018", "address: 丰台区花乡张家路口121号"),
    ("宛平城", "landmark", "110106014", "宛平城社区 is in 宛平街道"),
    ("中国人民抗日战争纪念馆", "landmark", "110106014", "inside 宛平城 (宛平城内街101号)"),
    ("抗战纪念馆", "landmark", "110106014", "inside 宛平城"),
    (
        "卢沟桥",
        "landmark",
        "110106014",
        "the bridge lies by 宛平城; 卢沟桥村 is in 宛平街道 — "
        "also the short form of 卢沟桥街道, so the bare name is ambiguous on purpose",
    ),
    ("卢沟桥景区", "landmark", "110106014", "宛平城 area"),
    (
        "丽泽金融商务区",
        "landmark",
        "110106002",
        "core around 菜户营/东管头/万泉寺, communities of 太平桥街道",
    ),
    ("丽泽商务区", "landmark", "110106002", "see 丽泽金融商务区"),
    ("南苑机场", "landmark", "110106005", "机场社区 is in 南苑街道"),
    ("槐房", "other", "110106005", "槐房社区 and 槐房村 are in 南苑街道"),
    ("新宫", "other", "110106005", "新宫社区 and 新宫村 are in 南苑街道"),
    ("草桥", "other", "110106022", "草桥社区, 草桥村 and 草桥欣园 are in 玉泉营街道"),
    ("刘家窑", "other", "110106007", "刘家窑第一/二/三社区 are in 东铁匠营街道"),
    ("西局", "other", "110106008", "西局欣园/西局玉园社区 are in 六里桥街道"),
    ("六圈", "other", "110106023", "六圈村 is in 看丹街道"),
    ("看丹桥", "landmark", "110106023", "看丹社区/看丹村, 看丹街道"),
    ("郭公庄", "other", "110106018", "郭公庄 communities and village are in 花乡街道"),
    ("葆台", "other", "110106018", "葆台村 is in 花乡街道"),
    ("洋桥", "other", "110106003", "洋桥北里/西里/东里/洋桥村社区 are in 西罗园街道"),
    ("宋家庄", "other", "110106021", "宋家庄社区 is in 石榴庄街道"),
    ("北宫国家森林公园", "landmark", "110106100", "in 北宫镇"),
    ("青龙湖公园", "landmark", "110106101", "in 王佐镇"),
    ("青龙湖", "landmark", "110106101", "in 王佐镇"),
    ("南宫", "other", "110106101", "南宫村 and 南宫雅苑/景苑社区 are in 王佐镇"),
    ("张郭庄", "other", "110106100", "张郭庄社区 and 张郭庄村 are in 北宫镇"),
    ("大红门服装商贸城", "landmark", "110106004", "大红门 area, 大红门街道"),
    ("木樨园", "other", "110106004", "木樨园南里社区 (大红门街道)"),
    ("木樨园", "other", "110106007", "木樨园第一/第二社区 (东铁匠营街道): the name spans two streets"),
    ("角门", "other", "110106003", "角门东里一/二/三社区 (西罗园街道)"),
    ("角门", "other", "110106015", "角门东里西社区 (马家堡街道): the name spans two streets"),
]


def seed_aliases() -> int:
    """Create the seed aliases that are missing. Idempotent; returns how many were created."""
    from changxin.triage.models import PlaceAlias

    units = {u.code: u for u in OrgUnit.objects.filter(code__in={code for _, _, code, _ in SEED_ALIASES})}
    created = 0
    for alias, kind, code, note in SEED_ALIASES:
        unit = units.get(code)
        if unit is None:
            continue
        _, new = PlaceAlias.objects.get_or_create(
            alias=alias, unit=unit, defaults={"kind": kind, "note": note}
        )
        created += new
    if created:
        invalidate()
    return created

"""Hot spots: a period's demands grouped into problems, their heat, and rising street × category cells.

Pure computation on plain values (no database), shared by the `changxin insight hotspots` command,
the periodic job (`insight/tasks.py`) and the benchmark (`bench/hotspots_bench.py`). The method and
the formulas are explained in docs/HOTSPOTS.md.

    items = [Item(id="1", day=date(2025, 3, 2), title="…", content="…", street="卢沟桥街道"), …]
    result = find_hot_spots(items, as_of=date(2025, 3, 31))
    result.problems   # [Problem(...)], hottest first
    result.cells      # {(street, category): Cell(...)}: the rising detector per cell

1. **Grouping** — the demands of the window (`window_days` up to `as_of`) are compared within their
   street: cosine similarity of character 2–3-gram TF-IDF vectors of title (twice), address and the
   start of the content. Two demands are linked when the similarity reaches `similarity`, they
   arrived within `link_days` of each other and do not name two different communities; a problem
   is a connected group of at least `min_size` demands.
2. **Heat** — `heat_index(...)`: counts, distinct requesters, growth, urgency, dissatisfaction.
3. **Rising** — `detect_rising(...)`: per street × category, a log-linear Poisson baseline
   (level × weekday factor × month factor, fitted on the cell's own history and shrunk towards the
   district's factors) and a Poisson CUSUM over the last `monitor_days`; a cell rises when the
   CUSUM reaches `cusum_h` during the last `recent_days`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

# --- input and parameters -------------------------------------------------------------------


@dataclass(slots=True)
class Item:
    """One demand as the detector sees it. `requester`: a key (phone, account) or "" (unknown —
    then the demand counts as its own requester); `dissatisfied`: None when not rated."""

    id: str
    day: dt.date
    title: str
    content: str = ""
    street: str = ""
    category: str = ""
    community: str = ""
    address: str = ""
    requester: str = ""
    urgent: bool = False
    dissatisfied: bool | None = None


@dataclass(frozen=True)
class Params:
    window_days: int = 30  # the period grouped into problems, ending on as_of (inclusive)
    similarity: float = 0.4  # cosine similarity of the text vectors that links two demands
    link_days: int = 14  # linked demands arrived at most this many days apart
    min_size: int = 2  # a problem has at least this many demands
    max_size: int = 300  # a larger connected group is split again with a stricter similarity
    content_chars: int = 120  # how much of the content goes into the text vector
    recent_days: int = 7  # growth compares the last recent_days with the recent_days before
    monitor_days: int = 14  # the CUSUM runs over these last days (excluded from the fit)
    history_days: int = 365  # the baseline is fitted on at most this many days before them
    level_half_life: float = 56.0  # days: the weight of older days in the level halves
    prior_events: float = 5.0  # shrinkage of a cell's weekday/month factors towards the district's
    cusum_shift: float = 2.0  # the CUSUM is tuned to detect a doubling of the expected rate
    cusum_h: float = 7.0  # alarm threshold of the CUSUM (log-likelihood ratio); bench/ chose it
    min_rate: float = 0.02  # floor of the expected daily count (a cell with no history)
    weekday_effect: bool = True  # off: a flat week (the benchmark compares)
    month_effect: bool = True  # off: no seasonality


DEFAULT = Params()


# --- heat -------------------------------------------------------------------------------------


def heat_index(
    count: int, requesters: int, recent: int, prior: int, urgent_share: float, dissatisfied_share: float
) -> float:
    """heat = 10·ln(1+n) + 10·ln(1+r) + 10·max(0, ln((1+recent)/(1+prior))) + 20·u + 20·d

    n demands, r distinct requesters, recent/prior: demands in the last `recent_days` and in the
    `recent_days` before, u: share of urgent demands, d: share of dissatisfied among rated ones.
    """
    growth = max(0.0, math.log((1 + recent) / (1 + prior)))
    value = (
        10 * math.log1p(count)
        + 10 * math.log1p(requesters)
        + 10 * growth
        + 20 * urgent_share
        + 20 * dissatisfied_share
    )
    return round(value, 1)


# --- output ------------------------------------------------------------------------------------


@dataclass
class Cell:
    """The rising detector's verdict on one street × category cell."""

    street: str
    category: str
    observed: int  # demands in the monitored days
    expected: float  # the baseline's expectation for them
    cusum: float  # the CUSUM on as_of
    peak: float  # the highest CUSUM in the last recent_days
    rising: bool
    alarm_day: dt.date | None = None  # the first day of the monitored window the CUSUM reached h


@dataclass
class Problem:
    street: str
    category: str
    items: list[Item]
    label: str
    heat: float
    rising: bool
    requesters: int
    recent: int
    prior: int
    first_day: dt.date
    last_day: dt.date
    number: int = 0  # 1 = hottest

    @property
    def demand_ids(self) -> list[str]:
        return [item.id for item in self.items]

    def daily_counts(self) -> dict[dt.date, int]:
        return dict(sorted(Counter(item.day for item in self.items).items()))


@dataclass
class Result:
    as_of: dt.date
    start: dt.date  # first day of the window
    problems: list[Problem] = field(default_factory=list)
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)


# --- grouping ----------------------------------------------------------------------------------

_PLACE_MASK = re.compile(r"[A-Za-zＡ-Ｚ]\d{0,2}[市区县镇]")  # masked names: A市, A3区, K9县
_MASK = re.compile(r"[\WA-Za-z0-9０-９Ａ-Ｚａ-ｚ_]+")  # punctuation, numbers, masks (138****)


def _clean(text: str) -> str:
    return _MASK.sub(" ", _PLACE_MASK.sub(" ", text))


def _text(item: Item, params: Params) -> str:
    title = _clean(item.title)
    return f"{title} {title} {_clean(item.address)} {_clean(item.content[: params.content_chars])}"


@dataclass
class Group:
    """Indices of the items of one problem, sorted by day; `medoid`: the index of its most central
    item (the highest cosine similarity to the group's mean vector), whose title labels it."""

    members: list[int]
    medoid: int

    def __iter__(self):
        return iter(self.members)

    def __len__(self) -> int:
        return len(self.members)


def group_items(items: Sequence[Item], params: Params = DEFAULT) -> list[Group]:
    """`items` grouped into problems (connected groups of at least min_size). Items are only
    compared within their street."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(items) < params.min_size:
        return []
    # n-grams in more than 2 % of a large window ("小区", "噪音扰民") say little of one problem and
    # make the products dense; in a small window (a quiet street, tests) nothing is dropped
    max_df = max(200, int(0.02 * len(items)))
    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 3), sublinear_tf=True, max_df=max_df, dtype=np.float32
    )
    try:
        matrix = vectorizer.fit_transform([_text(item, params) for item in items]).tocsr()
    except ValueError:  # every text empty, or every n-gram too common
        return []
    days = np.array([item.day.toordinal() for item in items])
    communities = np.array([item.community for item in items], dtype=object)
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        blocks[item.street].append(index)

    groups: list[Group] = []
    for members in blocks.values():
        if len(members) < params.min_size:
            continue
        idx = np.array(members)
        sub = matrix[idx]
        sims = (sub @ sub.T).tocoo()
        keep = (sims.row < sims.col) & (sims.data >= params.similarity)
        rows, cols, values = sims.row[keep], sims.col[keep], sims.data[keep]
        keep = np.abs(days[idx[rows]] - days[idx[cols]]) <= params.link_days
        ca, cb = communities[idx[rows]], communities[idx[cols]]
        keep &= (ca == "") | (cb == "") | (ca == cb)
        rows, cols, values = rows[keep], cols[keep], values[keep]
        for component in _components(len(idx), rows, cols, values, params.similarity, params):
            group = idx[component]
            vectors = matrix[group]
            centre = np.asarray(vectors.mean(axis=0)).ravel()
            medoid = int(group[int(np.argmax(vectors @ centre))])
            ordered = sorted(group.tolist(), key=lambda i: (items[i].day, items[i].id))
            groups.append(Group(ordered, medoid))
    return groups


def _components(n, rows, cols, sims, threshold: float, params: Params) -> list[np.ndarray]:
    """Connected groups (node indices) of at least min_size; a group above max_size (a chain of
    look-alikes: "噪音扰民" in a hundred places) is split again with the similarity raised by 0.1."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels, minlength=count)
    out = []
    for component in np.flatnonzero(sizes >= params.min_size):
        nodes = np.flatnonzero(labels == component)
        if len(nodes) <= params.max_size or threshold >= 0.9:
            out.append(nodes)
            continue
        stricter = threshold + 0.1
        inside = (labels[rows] == component) & (sims >= stricter)
        local = np.full(n, -1)
        local[nodes] = np.arange(len(nodes))
        for part in _components(
            len(nodes), local[rows[inside]], local[cols[inside]], sims[inside], stricter, params
        ):
            out.append(nodes[part])
    return out


def label_of(title: str, limit: int = 40) -> str:
    """A problem's label: its most central title, whitespace collapsed, cut at `limit` characters."""
    text = " ".join(title.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_EPS = 1e-6
MIN_MONTH_DAYS = 21  # a month's factor is fitted only from at least this many days of it


# --- rising ------------------------------------------------------------------------------------


def _factors(
    counts: np.ndarray,
    dows: np.ndarray,
    months: np.ndarray,
    weights: np.ndarray,
    prior_w: np.ndarray | None,
    prior_m: np.ndarray | None,
    tau: float,
    params: Params,
    rounds: int = 4,
):
    """Fit level × weekday × month to counts[cells, days] by iterative proportional fitting (the
    Poisson maximum likelihood for main effects), the factors shrunk towards prior_w/prior_m with
    `tau` pseudo-events. Returns level[cells], w[cells, 7], m[cells, 12]; the level is the
    deseasonalised rate weighted by `weights` (recent days count more)."""
    cells = counts.shape[0]
    w = np.ones((cells, 7)) if prior_w is None else np.tile(prior_w, (cells, 1))
    m = np.ones((cells, 12)) if prior_m is None else np.tile(prior_m, (cells, 1))
    dow_onehot = np.eye(7)[dows]  # days × 7
    month_onehot = np.eye(12)[months]  # days × 12
    observed_w = counts @ dow_onehot
    observed_m = counts @ month_onehot
    base_w = np.ones(7) if prior_w is None else prior_w
    base_m = np.ones(12) if prior_m is None else prior_m
    days_per_month = month_onehot.sum(axis=0)
    for _ in range(rounds):
        season = m[:, months] * w[:, dows]  # cells × days
        level = counts.sum(axis=1) / np.maximum(season.sum(axis=1), 1e-9)
        expected_w = (level[:, None] * m[:, months]) @ dow_onehot
        w = (observed_w + tau * base_w + _EPS) / (expected_w + tau + _EPS)  # no data: 1
        w = w / w.mean(axis=1, keepdims=True) if params.weekday_effect else np.ones_like(w)
        expected_m = (level[:, None] * w[:, dows]) @ month_onehot
        m = (observed_m + tau * base_m + _EPS) / (expected_m + tau + _EPS)
        seen = days_per_month >= MIN_MONTH_DAYS  # a few days (a holiday week) say nothing of a month
        m[:, ~seen] = base_m[~seen]
        m = m / m[:, seen].mean(axis=1, keepdims=True) if seen.any() else m
        if not params.month_effect:
            m = np.ones_like(m)
    season = m[:, months] * w[:, dows]
    level = (counts * weights).sum(axis=1) / np.maximum((season * weights).sum(axis=1), 1e-9)
    return level, w, m


def detect_rising(
    counts: np.ndarray, start: dt.date, as_of: dt.date, params: Params = DEFAULT
) -> tuple[np.ndarray, ...]:
    """The rising detector on daily counts[cells, days], day 0 = `start`, for the day `as_of`.

    Fits the baseline on the `history_days` before the monitored window (the last `monitor_days`
    up to as_of) and runs a Poisson CUSUM over the window. Returns, per cell: rising (bool), the
    CUSUM on as_of, its peak over the last recent_days, observed and expected counts of the window,
    and the index (in the window) of the first day the CUSUM reached h, or -1.
    """
    end = (as_of - start).days + 1  # exclusive index
    mon_start = max(0, end - params.monitor_days)
    fit_start = max(0, mon_start - params.history_days)
    # a week without a single demand anywhere is no quiet week but no data (before the platform
    # or an import began): the fit starts after the last such week
    totals = counts[:, fit_start:mon_start].sum(axis=0)
    if len(totals) >= 7:
        empty = np.flatnonzero(np.convolve(totals, np.ones(7), "valid") == 0)
        if empty.size:
            fit_start += int(empty[-1]) + 7
    ordinals = np.arange(start.toordinal() + fit_start, start.toordinal() + end)
    dows = np.array([dt.date.fromordinal(int(o)).weekday() for o in ordinals])
    months = np.array([dt.date.fromordinal(int(o)).month - 1 for o in ordinals])
    history = counts[:, fit_start:mon_start].astype(float)
    watched = counts[:, mon_start:end].astype(float)
    n_hist = mon_start - fit_start
    cells = counts.shape[0]
    if n_hist >= 7:
        h_dows, h_months = dows[:n_hist], months[:n_hist]
        age = np.arange(n_hist)[::-1]
        weights = 0.5 ** (age / params.level_half_life)
        _, pooled_w, pooled_m = _factors(
            history.sum(axis=0, keepdims=True), h_dows, h_months, weights, None, None, 0.0, params
        )
        level, w, m = _factors(
            history, h_dows, h_months, weights, pooled_w[0], pooled_m[0], params.prior_events, params
        )
        expected = level[:, None] * w[:, dows[n_hist:]] * m[:, months[n_hist:]]
    else:  # no history to speak of: every cell is judged against the floor
        expected = np.zeros((cells, end - mon_start))
    expected = np.maximum(expected, params.min_rate)
    k = params.cusum_shift
    increments = watched * math.log(k) - expected * (k - 1)
    path = np.zeros_like(increments)
    running = np.zeros(cells)
    for t in range(increments.shape[1]):
        running = np.maximum(0.0, running + increments[:, t])
        path[:, t] = running
    alarmed = path >= params.cusum_h
    first = np.where(alarmed.any(axis=1), alarmed.argmax(axis=1), -1)
    recent = path[:, -params.recent_days :] if path.shape[1] else np.zeros((cells, 1))
    peak = recent.max(axis=1) if recent.size else np.zeros(cells)
    rising = peak >= params.cusum_h
    now = path[:, -1] if path.shape[1] else np.zeros(cells)
    return rising, now, peak, watched.sum(axis=1), expected.sum(axis=1), first


# --- the whole run -----------------------------------------------------------------------------


def daily_matrix(
    items: Iterable[Item], start: dt.date, as_of: dt.date
) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Daily counts per (street, category) from `start` to `as_of` inclusive."""
    cells: dict[tuple[str, str], int] = {}
    entries = []
    span = (as_of - start).days + 1
    for item in items:
        offset = (item.day - start).days
        if 0 <= offset < span:
            key = (item.street, item.category)
            entries.append((cells.setdefault(key, len(cells)), offset))
    matrix = np.zeros((len(cells), span), dtype=np.int32)
    if entries:
        rows, cols = zip(*entries, strict=True)
        np.add.at(matrix, (np.array(rows), np.array(cols)), 1)
    return list(cells), matrix


def history_start(as_of: dt.date, params: Params = DEFAULT) -> dt.date:
    """The first day the rising detector looks at for `as_of`."""
    return as_of - dt.timedelta(days=params.monitor_days + params.history_days - 1)


def rising_cells(
    items: Iterable[Item], as_of: dt.date, params: Params = DEFAULT
) -> dict[tuple[str, str], Cell]:
    """The rising detector for every street × category cell present in `items`, on `as_of`."""
    start = history_start(as_of, params)
    keys, matrix = daily_matrix(items, start, as_of)
    return judge_cells(keys, matrix, start, as_of, params)


def judge_cells(
    keys: Sequence[tuple[str, str]],
    matrix: np.ndarray,
    start: dt.date,
    as_of: dt.date,
    params: Params = DEFAULT,
) -> dict[tuple[str, str], Cell]:
    """The rising detector on daily counts already counted (one row per key, day 0 = start)."""
    if not len(keys):
        return {}
    rising, now, peak, observed, expected, first = detect_rising(matrix, start, as_of, params)
    mon_start = as_of - dt.timedelta(days=params.monitor_days - 1)
    return {
        key: Cell(
            street=key[0],
            category=key[1],
            observed=int(observed[i]),
            expected=round(float(expected[i]), 2),
            cusum=round(float(now[i]), 2),
            peak=round(float(peak[i]), 2),
            rising=bool(rising[i]),
            alarm_day=mon_start + dt.timedelta(days=int(first[i])) if first[i] >= 0 else None,
        )
        for i, key in enumerate(keys)
    }


def _majority(values: Iterable[str]) -> str:
    counts = Counter(values)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else ""


def find_hot_spots(
    items: Sequence[Item],
    as_of: dt.date | None = None,
    params: Params = DEFAULT,
    cells: dict[tuple[str, str], Cell] | None = None,
) -> Result:
    """Group the window's demands into problems, score them and mark the rising ones.

    `items` may hold the cells' history too (from `history_start(as_of)`): only the window's
    demands are grouped, all of them feed the rising detector — unless `cells` gives its verdicts
    already (the periodic job counts the history in the database). `as_of` defaults to the latest
    day among the items.
    """
    if as_of is None:
        as_of = max((item.day for item in items), default=dt.date.today())
    start = as_of - dt.timedelta(days=params.window_days - 1)
    window = [item for item in items if start <= item.day <= as_of]
    result = Result(as_of=as_of, start=start)
    result.cells = rising_cells(items, as_of, params) if cells is None else cells
    groups = group_items(window, params)
    labels = [label_of(window[group.medoid].title) for group in groups]
    recent_from = as_of - dt.timedelta(days=params.recent_days - 1)
    prior_from = recent_from - dt.timedelta(days=params.recent_days)
    monitored_from = as_of - dt.timedelta(days=params.monitor_days - 1)
    for group, label in zip(groups, labels, strict=True):
        members = [window[i] for i in group]
        street = members[0].street
        category = _majority(item.category for item in members)
        requesters = len({item.requester or f"#{item.id}" for item in members})
        recent = sum(item.day >= recent_from for item in members)
        prior = sum(prior_from <= item.day < recent_from for item in members)
        rated = [item.dissatisfied for item in members if item.dissatisfied is not None]
        heat = heat_index(
            len(members),
            requesters,
            recent,
            prior,
            sum(item.urgent for item in members) / len(members),
            (sum(rated) / len(rated)) if rated else 0.0,
        )
        cell = result.cells.get((street, category))
        in_monitor = sum(item.day >= monitored_from for item in members)
        result.problems.append(
            Problem(
                street=street,
                category=category,
                items=members,
                label=label,
                heat=heat,
                rising=bool(cell and cell.rising and in_monitor >= params.min_size),
                requesters=requesters,
                recent=recent,
                prior=prior,
                first_day=members[0].day,
                last_day=members[-1].day,
            )
        )
    result.problems.sort(key=lambda p: (-p.heat, -len(p.items), p.street, p.first_day, p.items[0].id))
    for number, problem in enumerate(result.problems, 1):
        problem.number = number
    return result

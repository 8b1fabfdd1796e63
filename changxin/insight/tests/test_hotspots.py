"""The hot-spot detector on plain values: grouping, heat, the rising detector, and the file command."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from changxin.insight import hotspot_files, hotspots
from changxin.insight.hotspots import Item, heat_index

AS_OF = dt.date(2025, 6, 30)


def item(id, day, title, street="卢沟桥街道", **kw):
    return Item(id=str(id), day=day, title=title, street=street, **kw)


# --- grouping ---------------------------------------------------------------------------------


def test_near_duplicates_in_one_street_form_one_problem_and_different_problems_stay_apart():
    day = dt.date(2025, 6, 20)
    items = [
        item(1, day, "丰台区卢沟桥街道晓月苑小区门口机动车乱停乱放堵塞消防通道"),
        item(2, day, "晓月苑小区门口机动车乱停乱放，消防通道被堵"),
        item(3, day + dt.timedelta(days=1), "反映晓月苑小区门口机动车乱停乱放堵塞消防通道问题"),
        item(4, day, "万柳园小区楼下餐馆油烟扰民，晚上噪音很大"),
        item(5, day + dt.timedelta(days=2), "万柳园小区楼下餐馆油烟扰民严重"),
        item(6, day, "咨询孩子入学需要准备哪些材料"),
        # the same words in another street are another problem
        item(7, day, "晓月苑小区门口机动车乱停乱放堵塞消防通道", street="长辛店街道"),
    ]
    groups = hotspots.group_items(items)
    as_ids = sorted(sorted(items[i].id for i in group) for group in groups)
    assert as_ids == [["1", "2", "3"], ["4", "5"]]


def test_demands_far_apart_in_time_or_in_different_communities_are_not_linked():
    day = dt.date(2025, 6, 1)
    title = "晓月苑小区门口机动车乱停乱放堵塞消防通道"
    far = [item(1, day, title), item(2, day + dt.timedelta(days=20), title)]
    assert hotspots.group_items(far) == []
    apart = [item(1, day, title, community="晓月苑社区"), item(2, day, title, community="卢沟新桥社区")]
    assert hotspots.group_items(apart) == []
    one_unknown = [item(1, day, title, community="晓月苑社区"), item(2, day, title)]
    assert len(hotspots.group_items(one_unknown)) == 1


def test_a_problem_is_labelled_by_its_most_central_title():
    day = dt.date(2025, 6, 20)
    titles = [
        "晓月苑小区停车难",
        "晓月苑小区停车难，车位不够",
        "晓月苑小区停车难问题",
        "晓月苑小区停车难，晚上找不到车位停",
    ]
    [group] = hotspots.group_items([item(i, day, t) for i, t in enumerate(titles)])
    assert group.medoid == 0  # what the others share
    assert hotspots.label_of("  晓月苑小区\n停车难  ") == "晓月苑小区 停车难"
    assert hotspots.label_of("停" * 50) == "停" * 39 + "…"


# --- heat -------------------------------------------------------------------------------------


def test_heat_formula():
    assert heat_index(0, 0, 0, 0, 0.0, 0.0) == 0.0
    expected = 10 * math.log(5) + 10 * math.log(4) + 10 * math.log(4 / 2) + 20 * 0.25 + 20 * 0.5
    assert heat_index(4, 3, 3, 1, 0.25, 0.5) == round(expected, 1)
    # falling demand adds nothing for growth; more requesters and dissatisfaction heat it up
    assert heat_index(4, 4, 0, 4, 0, 0) == heat_index(4, 4, 0, 0, 0, 0)
    assert heat_index(4, 4, 0, 0, 0, 0) > heat_index(4, 1, 0, 0, 0, 0)
    assert heat_index(4, 4, 0, 0, 0, 1) > heat_index(4, 4, 0, 0, 0, 0)


def test_problem_heat_counts_distinct_requesters_and_dissatisfaction():
    day = AS_OF - dt.timedelta(days=2)
    title = "晓月苑小区门口机动车乱停乱放堵塞消防通道"
    items = [
        item(1, day, title, requester="a", dissatisfied=True),
        item(2, day, title, requester="a", dissatisfied=False),
        item(3, day, title, urgent=True),
    ]
    [problem] = hotspots.find_hot_spots(items, as_of=AS_OF).problems
    assert problem.requesters == 2
    assert problem.heat == heat_index(3, 2, 3, 0, 1 / 3, 0.5)


# --- rising -----------------------------------------------------------------------------------


def weekday_history(days: int, seed: int, spike: tuple[int, int, int] | None = None) -> np.ndarray:
    """One cell: ~12 a day on weekdays, ~3 at weekends, 20 % more in July–August; optionally
    `extra` demands a day added on the days [first, last)."""
    rng = np.random.default_rng(seed)
    start = AS_OF - dt.timedelta(days=days - 1)
    rates = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        rate = (12.0 if day.weekday() < 5 else 3.0) * (1.2 if day.month in (7, 8) else 1.0)
        rates.append(rate)
    counts = rng.poisson(rates)
    if spike:
        first, last, extra = spike
        counts[first:last] += extra
    return counts[None, :], start


@pytest.mark.parametrize("seed", range(5))
def test_a_normal_weekday_pattern_does_not_rise(seed):
    counts, start = weekday_history(400, seed)
    rising, *_ = hotspots.detect_rising(counts, start, AS_OF)
    assert not rising[0]


@pytest.mark.parametrize("seed", range(3))
def test_weeks_before_the_data_began_are_not_read_as_quiet_months(seed):
    """Last June lies before the platform started: June is no quiet month, and a holiday's few days
    of a month say nothing of that month either."""
    counts, start = weekday_history(400, seed)
    counts[0, :200] = 0
    rising, *_ = hotspots.detect_rising(counts, start, AS_OF)
    assert not rising[0]


def test_a_planted_spike_rises_within_days():
    counts, start = weekday_history(400, seed=1, spike=(396, 400, 10))
    rising, now, peak, observed, expected, first = hotspots.detect_rising(counts, start, AS_OF)
    assert rising[0]
    assert observed[0] > expected[0] + 20
    params = hotspots.DEFAULT
    alarm_offset = int(first[0]) - (params.monitor_days - 4)  # days after the spike began
    assert 0 <= alarm_offset <= 2


def test_weekend_counts_do_not_hide_a_weekend_spike():
    """A weekend doubled is no alarm for a flat-rate model but is one against the weekday pattern."""
    counts, start = weekday_history(400, seed=2)
    weekend = [i for i in range(386, 400) if (start + dt.timedelta(days=i)).weekday() >= 5]
    counts[0, weekend] += 8  # ~3 → ~11 at weekends: still below a weekday
    rising, *_ = hotspots.detect_rising(counts, start, AS_OF)
    assert rising[0]
    flat = dataclasses.replace(hotspots.DEFAULT, weekday_effect=False)
    assert not hotspots.detect_rising(counts, start, AS_OF, flat)[0][0]


def test_a_cell_without_history_rises_only_with_several_demands():
    start = AS_OF - dt.timedelta(days=30)
    quiet = np.zeros((1, 31), dtype=int)
    quiet[0, -1] = 2
    assert not hotspots.detect_rising(quiet, start, AS_OF)[0][0]
    busy = np.zeros((1, 31), dtype=int)
    busy[0, -3:] = 4
    assert hotspots.detect_rising(busy, start, AS_OF)[0][0]


def test_rising_problem_needs_its_cell_to_rise():
    title = "晓月苑小区门口机动车乱停乱放堵塞消防通道"
    history = [
        item(f"h{i}", AS_OF - dt.timedelta(days=20 + i), f"其他问题{i}", category="交通")
        for i in range(0, 300, 3)
    ]
    burst = [item(f"b{i}", AS_OF - dt.timedelta(days=i % 4), title, category="交通") for i in range(12)]
    result = hotspots.find_hot_spots(history + burst, as_of=AS_OF)
    [problem] = [p for p in result.problems if p.items[0].id.startswith("b")]
    assert problem.rising and problem.category == "交通" and len(problem.items) == 12
    assert result.cells[("卢沟桥街道", "交通")].rising
    calm = hotspots.find_hot_spots(history + burst[:2], as_of=AS_OF)
    assert not any(p.rising for p in calm.problems)


# --- the file command ---------------------------------------------------------------------------

HEADER = "id,received_at,title,content,street,community,address,category\n"


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("insight", "hotspots", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_writes_exactly_the_problem_columns(tmp_path):
    rows = [
        "1,2025-06-20 09:00,晓月苑小区门口机动车乱停乱放堵塞消防通道,车停满了,卢沟桥街道,,,交通",
        "2,2025-06-21 10:00,晓月苑小区门口机动车乱停乱放消防通道被堵,,卢沟桥街道,,,交通",
        '3,2025-06-22 11:00,晓月苑小区门口机动车乱停乱放堵塞消防通道,"多行\n内容",卢沟桥街道,,,交通',
        "4,2025-06-22 11:00,咨询孩子入学需要准备哪些材料,,长辛店街道,,,教育",
    ]
    source = write(tmp_path / "in.csv", HEADER + "\n".join(rows) + "\n")
    target = tmp_path / "out.csv"
    out, _ = run("--input", source, "--output", target, "--as-of", "2025-06-30")
    with open(target, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["problem", "rising", "heat", "street", "category", "demand_ids", "label"]
        [row] = list(reader)
    assert row["problem"] == "1" and row["rising"] in {"0", "1"}
    assert row["street"] == "卢沟桥街道" and row["category"] == "交通"
    assert row["demand_ids"] == "1 2 3"
    assert float(row["heat"]) > 0 and row["label"]
    assert "1 problems" in out
    assert not list(tmp_path.glob(".out.csv.*"))  # no temporary file left behind


def test_command_reports_bad_rows_by_line_and_writes_nothing(tmp_path):
    rows = [
        "1,2025-06-20 09:00,晓月苑停车难,,卢沟桥街道,,,",
        "2,yesterday,晓月苑停车难,,卢沟桥街道,,,",
        "3,2025-06-21 09:00,,,卢沟桥街道,,,",
    ]
    source = write(tmp_path / "in.csv", HEADER + "\n".join(rows) + "\n")
    target = tmp_path / "out.csv"
    with pytest.raises(CommandError, match="2 bad row"):
        run("--input", source, "--output", target)
    assert not target.exists()
    items, errors, rows = hotspot_files.read_items(source)
    assert rows == 3 and [i.id for i in items] == ["1"]
    assert [(e.line, e.column) for e in errors] == [(3, "received_at"), (4, "title")]
    out, err = run("--input", source, "--output", target, "--keep-good")
    lines = err.splitlines()  # in the platform's language: "第 3 行：received_at：…"
    assert len(lines) == 2 and "3" in lines[0] and "received_at" in lines[0], lines
    assert "4" in lines[1] and "title" in lines[1], lines
    assert target.read_text(encoding="utf-8").splitlines() == [
        "problem,rising,heat,street,category,demand_ids,label"
    ]


def test_command_refuses_a_file_without_the_required_columns(tmp_path):
    source = write(tmp_path / "in.csv", "id,title\n1,x\n")
    with pytest.raises(CommandError, match="received_at"):
        run("--input", source, "--output", tmp_path / "out.csv")

"""`changxin import-demands`: formats, every kind of bad row with its line number, all-or-nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from changxin.core.tests.builders import divisions_and_calendar
from changxin.demands.importer import DemandImporter, detect_encoding, import_demands, parse_datetime
from changxin.demands.models import Channel, Demand, DemandEvent, DemandTask, State, TaskState

HEADER_ZH = [
    "工单编号", "受理时间", "类型", "标题", "内容", "渠道", "分类", "诉求人", "联系电话", "地址", "街乡镇",
    "社区村", "主办单位", "派单时间", "联系时间", "办结时间", "答复内容", "解决情况", "满意度",
]  # fmt: skip
HEADER_EN = [
    "number", "received_at", "type", "title", "content", "channel", "category", "requester_name", "phone",
    "address", "street", "community", "lead_unit", "dispatched_at", "contacted_at", "replied_at", "reply",
    "resolution", "satisfaction",
]  # fmt: skip


def row(number="HX2024030100001", **overrides) -> list[str]:
    values = {
        "number": number,
        "received_at": "2024-03-01 09:15:00",
        "type": "投诉",
        "title": "夜间施工噪音扰民",
        "content": "小区东侧工地每天夜里十一点后仍在施工，噪音很大，影响休息。",
        "channel": "12345",
        "category": "噪音污染",
        "requester_name": "张先生",
        "phone": "13900001234",
        "address": "卢沟桥街道小瓦窑西里3号楼",
        "street": "卢沟桥街道",
        "community": "小瓦窑西里社区",
        "lead_unit": "卢沟桥街道",
        "dispatched_at": "2024-03-01 09:40",
        "contacted_at": "2024/3/1 14:05",
        "replied_at": "2024年3月5日 16时30分",
        "reply": "已联系施工单位，夜间22时后停止高噪音作业。",
        "resolution": "已解决",
        "satisfaction": "满意",
    }
    values.update(overrides)
    return [values[k] for k in HEADER_EN]


def write_csv(path: Path, rows: list[list[str]], header=HEADER_ZH, encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(path: Path, *args) -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("import_demands", str(path), "--no-progress", *args, stdout=out, stderr=err)
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return out.getvalue(), err.getvalue(), code


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; test_messages_are_translated checks the Chinese ones."""
    with translation.override("en"):
        yield


@pytest.fixture
def world(db):
    divisions_and_calendar([2024, 2025])


def test_csv_happy_path(world, tmp_path):
    path = write_csv(
        tmp_path / "ok.csv",
        [
            row(),
            row(
                "HX2024030200002",
                received_at="2024-03-02 10:00",
                type="咨询",
                title="",
                content="想咨询孩子今年幼升小入学需要准备哪些材料。",
                category="教育文体/考试招生/招生录取",
                street="",
                community="",
                address="",
                lead_unit="",
                dispatched_at="",
                contacted_at="",
                replied_at="",
                reply="",
                resolution="",
                satisfaction="",
                channel="",
            ),
            row(
                "HX2024030300003",
                received_at="2024-03-03 08:00",
                dispatched_at="2024-03-03 08:20",
                type="help",
                category="城乡建设/城市建设和市政管理/冬季采暖",
                lead_unit="区住建委",
                street="110106011",
                community="",
                contacted_at="",
                replied_at="",
                reply="",
                resolution="",
                satisfaction="",
            ),
        ],
    )
    out, err, code = run(path)
    assert code == 0, err
    assert "3 rows checked: 3 good, 0 bad; 3 demands written." in out

    done = Demand.objects.select_related("category", "street", "community", "lead_unit").get(
        number="HX2024030100001"
    )
    assert done.state == State.ARCHIVED
    assert done.channel == Channel.HOTLINE
    assert done.category.name == "噪音污染"
    assert (done.street.name, done.community.name, done.lead_unit.name) == (
        "卢沟桥街道",
        "小瓦窑西里社区",
        "卢沟桥街道",
    )
    local = timezone.localtime(done.replied_at)
    assert (local.date(), local.hour, local.minute) == (dt.date(2024, 3, 5), 16, 30)
    assert done.resolution == "resolved" and done.satisfaction == "satisfied"
    assert done.contacted_at <= done.contact_due  # deadlines are computed from the dispatch time
    assert done.finish_due > done.contact_due
    assert done.closed_at == done.visited_at == done.replied_at
    events = list(DemandEvent.objects.filter(demand=done))
    assert [e.action for e in events] == [
        "receive", "dispatch", "acknowledge", "contact", "reply", "return_visit", "archive",
    ]  # fmt: skip
    receive = events[0]
    assert (receive.to_state, receive.at, receive.actor_name) == (State.RECEIVED, done.received_at, "import")
    assert receive.data["imported"] and receive.data["line"] == 2 and receive.data["file"] == "ok.csv"
    assert events[-1].to_state == State.ARCHIVED and events[-1].at == done.closed_at
    assert DemandTask.objects.get(demand=done).state == TaskState.DONE

    consult = Demand.objects.get(number="HX2024030200002")
    assert consult.state == State.RECEIVED and consult.channel == Channel.IMPORT
    assert consult.title == consult.content[:30]
    assert consult.category.full_name == "教育文体 / 考试招生 / 招生录取"
    assert not consult.tasks.exists()

    open_one = Demand.objects.select_related("lead_unit", "street").get(number="HX2024030300003")
    assert open_one.state == State.DISPATCHED
    assert open_one.lead_unit.code == "110106D02" and open_one.street.name == "长辛店街道"
    # an open imported demand shows on the lead unit's workbench
    assert DemandTask.objects.get(demand=open_one).state == TaskState.PENDING


def test_english_headers_tab_separated_and_gb18030(world, tmp_path):
    path = tmp_path / "gbk.tsv"
    with open(path, "w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(HEADER_EN)
        writer.writerow(row("GB001", type="complaint", resolution="partly", satisfaction="basic"))
    assert detect_encoding(path) == "gb18030"
    out, err, code = run(path)
    assert code == 0, err
    demand = Demand.objects.get(number="GB001")
    assert demand.title == "夜间施工噪音扰民"
    assert (demand.resolution, demand.satisfaction) == ("partly", "basic")


def test_utf8_bom_and_gb18030_after_ascii_rows(world, tmp_path):
    bom = write_csv(tmp_path / "bom.csv", [row("BOM1")], encoding="utf-8-sig")
    assert detect_encoding(bom) == "utf-8-sig"
    assert run(bom)[2] == 0
    assert Demand.objects.filter(number="BOM1").exists()

    # a GB18030 file whose first megabyte is ASCII must still be detected as GB18030
    late = tmp_path / "late.csv"
    with open(late, "w", encoding="gb18030", newline="") as handle:
        handle.write("x" * (1 << 20 + 1) + "\n中文\n")
    assert detect_encoding(late, chunk_size=4096) == "gb18030"


def test_xlsx_happy_path(world, tmp_path):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("工单")
    sheet.append(HEADER_ZH)
    values = row("XL001")
    values[HEADER_EN.index("received_at")] = dt.datetime(2024, 3, 1, 9, 15)
    values[HEADER_EN.index("dispatched_at")] = dt.datetime(2024, 3, 1, 9, 40)
    values[HEADER_EN.index("contacted_at")] = dt.datetime(2024, 3, 1, 14, 5)
    values[HEADER_EN.index("replied_at")] = dt.datetime(2024, 3, 5, 16, 30)
    values[HEADER_EN.index("phone")] = 13900001234  # Excel keeps phone numbers as numbers
    sheet.append(values)
    sheet.append([None] * len(HEADER_ZH))  # empty rows are skipped
    bad = row("XL002", phone="12345")
    sheet.append(bad)
    path = tmp_path / "orders.xlsx"
    book.save(path)

    out, err, code = run(path)
    assert code == 1
    assert "line 4: 联系电话: “12345” is not a valid phone number" in err
    assert not Demand.objects.exists()

    out, err, code = run(path, "--keep-good")
    assert code == 0
    demand = Demand.objects.get(number="XL001")
    assert demand.requester_phone == "13900001234"
    assert timezone.localtime(demand.received_at).replace(tzinfo=None) == dt.datetime(2024, 3, 1, 9, 15)


BAD_ROWS = [
    ({"phone": "12345"}, "联系电话: “12345” is not a valid phone number"),
    ({"received_at": "昨天下午"}, "受理时间: “昨天下午” is not a date and time"),
    ({"received_at": ""}, "受理时间: is required"),
    ({"received_at": "2099-01-01 08:00"}, "受理时间: “2099-01-01 08:00” is in the future"),
    ({"type": "抱怨"}, "类型: “抱怨” is not one of: 咨询/consult"),
    ({"content": ""}, "内容: is required"),
    ({"title": "长" * 121}, "标题: at most 120 characters allowed (this has 121)"),
    ({"category": "不存在的分类"}, "分类: unknown category “不存在的分类”"),
    ({"category": "其他"}, "分类: “其他” is ambiguous"),
    ({"street": "不存在街道"}, "街乡镇: unknown street/town “不存在街道”"),
    ({"community": "南墙缝社区"}, "社区村: “南墙缝社区” is not in 卢沟桥街道"),
    ({"lead_unit": "区外单位"}, "主办单位: unknown unit “区外单位”"),
    ({"lead_unit": ""}, "主办单位: is required when 派单时间 is given"),
    ({"dispatched_at": ""}, "派单时间: is required when 主办单位 is given"),
    ({"contacted_at": "2024-02-28 10:00"}, "联系时间: is earlier than 派单时间"),
    ({"replied_at": "", "reply": ""}, "办结时间: is required when a return-visit result is given"),
    ({"satisfaction": "还行"}, "满意度: “还行” is not one of"),
    ({"resolution": "不知道"}, "解决情况: “不知道” is not one of"),
]


@pytest.mark.parametrize(
    ("overrides", "message"), BAD_ROWS, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD_ROWS)]
)
def test_each_bad_row_is_reported_with_its_line_and_nothing_is_written(world, tmp_path, overrides, message):
    path = write_csv(tmp_path / "bad.csv", [row("OK1"), row("OK2"), row("BAD3", **overrides), row("OK4")])
    out, err, code = run(path)
    assert code == 1
    assert f"line 4: {message}" in err
    assert "line 2" not in err and "line 3" not in err and "line 5" not in err
    assert "4 rows checked: 3 good, 1 bad; 0 demands written." in out
    assert not Demand.objects.exists() and not DemandEvent.objects.exists()


def test_line_numbers_count_physical_lines_of_multiline_cells(world, tmp_path):
    path = write_csv(
        tmp_path / "multi.csv",
        [row("M1", content="第一行\n第二行\n第三行"), row("M2", phone="999")],
    )
    _, err, code = run(path)
    assert code == 1
    assert "line 5: 联系电话: “999” is not a valid phone number" in err


def test_all_or_nothing_across_batches(world, tmp_path):
    rows = [row(f"B{i:03d}") for i in range(9)] + [row("B999", type="???")]
    path = write_csv(tmp_path / "batches.csv", rows)
    importer = DemandImporter(batch_size=3)
    result = importer.run(path)
    assert result.bad == 1 and result.rolled_back and result.written == 0
    assert [str(e) for e in result.errors] == [f"line 11: 类型: {result.errors[0].message}"]
    assert not Demand.objects.exists() and not DemandTask.objects.exists()


def test_keep_good_writes_good_rows_and_reports_bad(world, tmp_path):
    path = write_csv(
        tmp_path / "mixed.csv", [row("G1"), row("G2", phone="abc"), row("G3"), row("G4", street="火星街道")]
    )
    out, err, code = run(path, "--keep-good")
    assert code == 0
    assert "line 3: 联系电话: “abc” is not a valid phone number" in err
    assert "line 5: 街乡镇: unknown street/town “火星街道”" in err
    assert "4 rows checked: 2 good, 2 bad; 2 demands written." in out
    assert set(Demand.objects.values_list("number", flat=True)) == {"G1", "G3"}
    assert DemandEvent.objects.filter(action="receive", data__imported=True).count() == 2


def test_keep_good_with_every_row_bad_exits_non_zero(world, tmp_path):
    path = write_csv(tmp_path / "allbad.csv", [row("X1", phone="1"), row("X2", phone="2")])
    _, _, code = run(path, "--keep-good")
    assert code == 1


def test_duplicate_numbers_in_file_and_in_database(world, tmp_path):
    write_csv(tmp_path / "first.csv", [row("D1")])
    assert run(tmp_path / "first.csv")[2] == 0
    path = write_csv(tmp_path / "dups.csv", [row("D2"), row("D2"), row("D1"), row("D3")])
    out, err, code = run(path, "--keep-good")
    assert "line 3: 工单编号: “D2” already appears on line 2" in err
    assert "line 4: 工单编号: “D1” already exists in the database" in err
    assert set(Demand.objects.values_list("number", flat=True)) == {"D1", "D2", "D3"}
    assert "4 rows checked: 2 good, 2 bad; 2 demands written." in out


def test_dry_run_validates_and_writes_nothing(world, tmp_path):
    path = write_csv(tmp_path / "dry.csv", [row("R1"), row("R2")])
    out, _, code = run(path, "--dry-run")
    assert code == 0
    assert "2 rows checked: 2 good, 0 bad; 0 demands written." in out and "Dry run" in out
    assert not Demand.objects.exists()
    path = write_csv(tmp_path / "drybad.csv", [row("R1"), row("R2", type="")])
    assert run(path, "--dry-run")[2] == 1


def test_missing_required_column_and_unknown_columns(world, tmp_path):
    path = write_csv(tmp_path / "cols.csv", [["A1", "内容"]], header=["工单编号", "内容"])
    _, err, code = run(path)
    assert code == 1
    assert "received_at (受理时间)" in err and "type (类型)" in err

    header = HEADER_ZH + ["备注"]
    path = write_csv(tmp_path / "extra.csv", [row("E1") + ["随便"]], header=header)
    _, err, code = run(path)
    assert code == 0 and "备注" in err


def test_explicit_state_must_match_the_data(world, tmp_path):
    header = HEADER_ZH + ["状态"]
    path = write_csv(
        tmp_path / "state.csv",
        [
            row("S1", replied_at="", reply="", resolution="", satisfaction="") + ["办理中"],
            row("S2", contacted_at="", replied_at="", reply="", resolution="", satisfaction="") + ["已办结"],
        ],
        header=header,
    )
    result = import_demands(path, keep_good=True)
    assert Demand.objects.get(number="S1").state == State.IN_PROGRESS
    assert [(e.line, e.field) for e in result.errors] == [(3, "办结时间")]


def test_parse_datetime_formats():
    expected = dt.datetime(2024, 3, 5, 9, 5)
    for text in (
        "2024-03-05 09:05",
        "2024/3/5 9:05",
        "2024.3.5 9:05:00",
        "2024年3月5日 9时5分",
        "2024-03-05T09:05",
    ):
        assert timezone.localtime(parse_datetime(text)).replace(tzinfo=None) == expected, text
    assert timezone.localtime(parse_datetime("2024-03-05")).hour == 0
    with pytest.raises(ValueError):
        parse_datetime("5 March")


def test_messages_are_translated(world, tmp_path):
    path = write_csv(tmp_path / "zh.csv", [row("Z1"), row("Z2", phone="12345")])
    with translation.override("zh-hans"):
        out, err, code = run(path)
    assert code == 1
    assert "第 3 行" in err and "联系电话" in err and "12345" in err
    assert "line 3" not in err


def test_max_errors_caps_the_printed_problems(world, tmp_path):
    path = write_csv(tmp_path / "many.csv", [row(f"P{i}", phone="1") for i in range(5)] + [row("P9")])
    _, err, code = run(path, "--max-errors", "2")
    assert code == 1
    assert [line for line in err.splitlines() if line.startswith("line ")] == [
        "line 2: 联系电话: “1” is not a valid phone number",
        "line 3: 联系电话: “1” is not a valid phone number",
    ]
    assert "… and 3 more problems not shown (only the first 2 are listed)." in err

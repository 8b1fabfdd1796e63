"""The shared CSV/Excel reader: encodings, headers and aliases, per-row errors by line, the policy."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError
from django.utils import timezone, translation

from changxin.core import tabular
from changxin.core.models import Role, User
from changxin.core.tabular import (
    CellError,
    Column,
    ImportRun,
    RowError,
    TableError,
    boolean,
    choice,
    date,
    decimal,
    integer,
    open_table,
    phone,
    print_report,
    text,
)

COLUMNS = [
    Column("name", ("姓名", "full name"), required=True, parse=text(10)),
    Column("age", ("年龄",), parse=integer(min_value=0, max_value=150)),
    Column("joined", ("入党时间", "joined on"), parse=date()),
    Column("member", ("是否党员",), parse=boolean()),
    Column("role", ("角色",), parse=choice(Role), default=Role.CITIZEN),
    Column("phone", ("联系电话",), parse=phone()),
]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def write_csv(path: Path, rows: list[list], header=("姓名", "年龄", "入党时间"), encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list], header=("姓名", "年龄", "入党时间")) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "名单"
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def read(path, **options) -> list[tabular.Row]:
    with open_table(path, columns=COLUMNS, **options) as table:
        return list(table)


# --- files and encodings -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_utf8_bom_and_gb18030(tmp_path, encoding):
    path = write_csv(tmp_path / "people.csv", [["张伟", "35", "2010年7月1日"]], encoding=encoding)
    with open_table(path, columns=COLUMNS) as table:
        assert table.encoding == encoding
        (row,) = list(table)
    assert (row.line, row["name"], row["age"], row["joined"]) == (2, "张伟", 35, dt.date(2010, 7, 1))
    assert row.ok


def test_undecodable_file_is_named_with_the_line(tmp_path):
    path = write_csv(tmp_path / "党员.csv", [["张伟", "35", ""]], encoding="gb18030")
    with pytest.raises(TableError) as caught:
        read(path, encoding="utf-8")
    error = caught.value
    assert (error.code, error.line, error.file) == ("encoding", 1, "党员.csv")
    assert str(error).startswith("党员.csv: line 1 is not utf-8 text")

    broken = tmp_path / "broken.csv"
    broken.write_bytes("姓名,年龄\n".encode() + b"\xff\xfe\xff,1\n")  # neither UTF-8 nor GB18030
    with pytest.raises(TableError, match=r"broken.csv: line 2 is not UTF-8 / GB18030 text"):
        read(broken)

    with pytest.raises(TableError, match="unknown encoding"):
        read(path, encoding="klingon")


def test_rows_are_streamed(tmp_path):
    """Rows come out before a problem further down the file is even read."""
    path = tmp_path / "long.csv"
    path.write_bytes("姓名\n".encode() + "张伟\n".encode() * 5000 + b"\xff\n")
    table = open_table(path, columns=COLUMNS, encoding="utf-8")
    rows = iter(table)
    assert next(rows)["name"] == "张伟"
    with pytest.raises(TableError) as caught:
        list(rows)
    assert caught.value.line == 5002
    table.close()


def test_missing_and_empty_and_unknown(tmp_path):
    with pytest.raises(TableError) as caught:
        read(tmp_path / "nope.csv")
    assert caught.value.code == "not_found" and "nope.csv" in str(caught.value)

    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(TableError, match="empty"):
        read(tmp_path / "empty.csv")

    columns = [*COLUMNS, Column("unit", ("单位",), required=True)]
    path = write_csv(tmp_path / "cols.csv", [["x"]], header=("年龄",))
    with pytest.raises(TableError) as caught:
        open_table(path, columns=columns)
    assert caught.value.code == "missing_columns"
    assert [c.name for c in caught.value.missing] == ["name", "unit"]
    assert "Required columns missing: name (姓名), unit (单位)." in str(caught.value)


def test_headers_match_aliases_in_chinese_and_english(tmp_path):
    path = write_csv(
        tmp_path / "en.csv",
        [["Li", "2010-07-01", "X", "是"]],
        header=(" Full_Name ", "JOINED-ON", "备注", "是否党员"),
    )
    with open_table(path, columns=COLUMNS) as table:
        (row,) = list(table)
        assert table.warnings == ["Column “备注” is not known and was ignored."]
        assert table.header_of("name") == "Full_Name"  # as written in the file
        assert table.header_of("phone") == "联系电话"  # not in the file: the Chinese header
    assert (row["name"], row["joined"], row["member"], row["age"], row["role"]) == (
        "Li",
        dt.date(2010, 7, 1),
        True,
        None,
        Role.CITIZEN,
    )

    path = write_csv(tmp_path / "twice.csv", [], header=("姓名", "name"))
    with pytest.raises(TableError, match="both mean name"):
        read(path)


# --- rows and their errors -----------------------------------------------------------------------


def test_per_row_errors_by_physical_line_in_csv(tmp_path):
    path = write_csv(
        tmp_path / "bad.csv",
        [
            ["张伟", "35", "2010-07-01"],
            ["王\n芳", "-3", "2010-07-01"],  # a quoted cell over two lines
            ["", "abc", "明年"],
            [],  # a blank line is skipped
            ["一个很长很长很长很长的名字", "40", "2024/2/30"],
        ],
    )
    rows = read(path)
    assert [r.line for r in rows] == [2, 3, 5, 7]
    assert [str(e) for r in rows for e in r.errors] == [
        "line 3: 年龄: “-3” is not between 0 and 150",
        "line 5: 姓名: is required",
        "line 5: 年龄: “abc” is not a whole number",
        "line 5: 入党时间: “明年” is not a date (use YYYY-MM-DD)",
        "line 7: 姓名: at most 10 characters allowed (this has 13)",
        "line 7: 入党时间: “2024/2/30” is not a date (use YYYY-MM-DD)",
    ]
    assert rows[1]["name"] == "王\n芳" and rows[1]["age"] is None


def test_per_row_errors_by_row_number_in_xlsx(tmp_path):
    path = write_xlsx(
        tmp_path / "people.xlsx",
        [
            ["张伟", 35, dt.datetime(2010, 7, 1)],
            [None, None, None],  # an empty row is skipped, its number still counts
            ["李娜", "三十", "2011.7.1"],
        ],
    )
    rows = read(path)
    assert [r.line for r in rows] == [2, 4]
    assert rows[0]["age"] == 35 and rows[0]["joined"] == dt.date(2010, 7, 1)
    assert [str(e) for e in rows[1].errors] == ["line 4: 年龄: “三十” is not a whole number"]
    assert rows[1]["joined"] == dt.date(2011, 7, 1)

    with pytest.raises(TableError, match="no sheet “Sheet9”"):
        read(path, sheet="Sheet9")
    assert len(read(path, sheet="名单")) == 2


def test_uploaded_file_objects(tmp_path):
    data = "姓名,年龄\n张伟,35\n".encode("gb18030")
    with open_table(io.BytesIO(data), columns=COLUMNS, name="upload.csv") as table:
        assert [(r["name"], r["age"]) for r in table] == [("张伟", 35)]
    xlsx = write_xlsx(tmp_path / "u.xlsx", [["李娜", 30, None]])
    with open_table(io.BytesIO(xlsx.read_bytes()), columns=COLUMNS, name="u.xlsx") as table:
        assert [(r.line, r["name"]) for r in table] == [(2, "李娜")]


def test_formula_looking_cells_are_text(tmp_path):
    path = write_csv(tmp_path / "f.csv", [['=HYPERLINK("http://x","y")', "", ""], ["+1+1", "", ""]])
    columns = [Column("name", ("姓名",), parse=text(100))]
    with open_table(path, columns=columns) as table:
        assert [r["name"] for r in table] == ['=HYPERLINK("http://x","y")', "+1+1"]

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["姓名"])
    book.active.append(["=1+1"])
    book.active["A2"].data_type = "s"  # text that looks like a formula
    book.save(tmp_path / "f.xlsx")
    with open_table(tmp_path / "f.xlsx", columns=columns) as table:
        assert [r["name"] for r in table] == ["=1+1"]


def test_parsers():
    assert text(3)(" ab ") == "ab"
    assert text(strip=False)(" ab ") == " ab "
    assert integer()("1,200") == 1200
    assert integer()(12.0) == 12
    assert decimal(places=2)("3.14159") == Decimal("3.14")
    with pytest.raises(CellError, match="is not a number"):
        decimal()("NaN")
    when = tabular.datetime()("2024年3月5日 9时5分")
    assert timezone.localtime(when).replace(tzinfo=None) == dt.datetime(2024, 3, 5, 9, 5)
    assert timezone.localtime(tabular.datetime()("2024/3/5 9:05:30")).second == 30
    with pytest.raises(CellError, match="is not a date and time"):
        tabular.datetime()("下午三点")
    assert (
        date()("2024年3月5日")
        == date()("2024.3.5")
        == date()(dt.datetime(2024, 3, 5, 8))
        == dt.date(2024, 3, 5)
    )
    with pytest.raises(CellError):
        date()("2024-03-05 09:00")

    by_label = choice({"resolved": ("已解决", "解决"), "unresolved": ("未解决",)})
    assert by_label("已解决") == by_label("Resolved") == by_label("解决") == "resolved"
    with pytest.raises(CellError, match="“不知道” is not one of: 已解决/resolved, 未解决/unresolved"):
        by_label("不知道")
    roles = choice(Role)  # a Choices class: its value, its English and its Chinese label
    assert roles("officer") == roles("Unit officer") == Role.OFFICER
    with translation.override("zh-hans"):
        zh = str(Role.OFFICER.label)
    assert roles(zh) == Role.OFFICER

    assert phone()(13900001234.0) == "13900001234"
    assert phone()("(010) 6381 2345") == "01063812345"
    with pytest.raises(CellError, match="not a valid phone number"):
        phone()("12345")
    assert [boolean()(v) for v in ("是", "否", "Yes", "0", "√")] == [True, False, True, False, True]
    with pytest.raises(CellError, match="is not 是 or 否"):
        boolean()("也许")


def test_messages_are_translated(tmp_path):
    path = write_csv(tmp_path / "zh.csv", [["", "abc", ""]])
    with translation.override("zh-hans"):
        (row,) = read(path)
        messages = [str(e) for e in row.errors]
    assert messages[0].startswith("第 2 行：姓名：") and "line" not in " ".join(messages)
    assert "不是整数" in messages[1]


# --- the import policy ---------------------------------------------------------------------------


def users_file(tmp_path, names: list[str]) -> Path:
    return write_csv(tmp_path / "users.csv", [[n] for n in names], header=("姓名",))


def run_users(path, **options) -> tabular.ImportReport:
    """A tiny import: one User per row; a name starting with "x" is bad; "dup" exists already."""
    columns = [Column("name", ("姓名",), required=True, parse=text(30))]

    def parse(row):
        if row["name"].startswith("x"):
            row.error("name", "starts with x")
        return row["name"]

    def check(batch):
        taken = set(
            User.objects.filter(username__in=[p.value for p in batch]).values_list("username", flat=True)
        )
        return [RowError(p.line, "姓名", "already exists", "name") for p in batch if p.value in taken]

    def write(batch):
        User.objects.bulk_create([User(username=p.value, role=Role.CITIZEN) for p in batch])
        return len(batch)

    with open_table(path, columns=columns) as table:
        return ImportRun(**options).run(table, parse=parse, check=check, write=write)


@pytest.mark.django_db
def test_all_or_nothing_reports_every_bad_row(tmp_path):
    User.objects.create(username="dup", role=Role.CITIZEN)
    path = users_file(tmp_path, ["a1", "a2", "x3", "a4", "dup", "a6", "x7"])
    report = run_users(path, batch_size=2)
    assert (report.rows, report.good, report.bad, report.written) == (7, 4, 3, 0)
    assert report.rolled_back and report.failed
    assert [(e.line, e.message) for e in report.errors] == [
        (4, "starts with x"),
        (6, "already exists"),
        (8, "starts with x"),
    ]
    assert list(User.objects.values_list("username", flat=True)) == ["dup"]


@pytest.mark.django_db
def test_keep_good_and_dry_run(tmp_path):
    path = users_file(tmp_path, ["a1", "x2", "a3"])
    report = run_users(path, dry_run=True)
    assert (report.good, report.bad, report.written) == (2, 1, 0) and not User.objects.exists()

    report = run_users(path, keep_good=True, batch_size=1)
    assert (report.good, report.bad, report.written, report.rolled_back) == (2, 1, 2, False)
    assert not report.failed
    assert set(User.objects.values_list("username", flat=True)) == {"a1", "a3"}


@pytest.mark.django_db
def test_errors_are_capped_with_a_count(tmp_path):
    path = users_file(tmp_path, [f"x{i}" for i in range(12)] + ["ok"])
    seen: list[RowError] = []
    report = run_users(path, max_errors=5, on_error=seen.append)
    assert len(seen) == len(report.errors) == 5 and report.error_count == 12
    assert report.omitted_errors == 7 and report.bad == 12

    class Command:
        stdout, stderr = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError) as caught:
        print_report(Command, report)
    assert caught.value.returncode == 1
    assert "… and 7 more problems not shown (only the first 5 are listed)." in Command.stderr.getvalue()
    out = Command.stdout.getvalue()
    assert "13 rows checked: 1 good, 12 bad; 0 written." in out
    assert "Nothing was written because 12 rows are bad. Fix them, or use --keep-good." in out

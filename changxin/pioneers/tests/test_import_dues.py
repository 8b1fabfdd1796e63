"""`changxin pioneers import-dues FILE`: dues bases by line, computed by the brackets, all or nothing."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from changxin.core.tests.builders import LUGOUQIAO, party_member, party_organisation
from changxin.pioneers.models import DuesBase

pytestmark = pytest.mark.django_db

HEADER = "身份证号,党员编号,姓名,年度,类别,税后月收入\n"


@pytest.fixture
def members(demo_world):
    branch = party_organisation(LUGOUQIAO, "小井村党支部", field="rural")
    return (
        party_member(branch, "王芳", id_number="11010619850302123X"),
        party_member(branch, "李明"),
    )


def run(tmp_path, rows, *args):
    path = tmp_path / "dues.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    out, err = StringIO(), StringIO()
    try:
        call_command("pioneers", "import-dues", str(path), *args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return code, out.getvalue(), err.getvalue()


def test_good_rows_set_the_bases_by_the_brackets(tmp_path, members):
    wang, li = members
    code, out, _ = run(
        tmp_path, ["11010619850302123X,,王芳,2026,在职,5000.01\n", f",{li.pk},李明,2026,无工资,\n"]
    )
    assert code == 0, out
    assert DuesBase.objects.get(member=wang).monthly_due == Decimal("75.00")
    assert DuesBase.objects.get(member=li).monthly_due == Decimal("0.50")


def test_every_bad_row_is_reported_by_line_and_nothing_is_written(tmp_path, members):
    wang, li = members
    code, out, err = run(
        tmp_path,
        [
            "11010619850302123X,,王芳,2026,在职,6000\n",
            f",{li.pk},张三,2026,在职,3000\n",  # the name does not match
            ",,李明,2026,在职,3000\n",  # no member named
            "11010619850302123X,,王芳,2026,离退休,\n",  # twice for the year; no income
            f",{li.pk},李明,1999,在职,=1+1\n",  # bad year, a formula for a number
        ],
    )
    assert code != 0
    assert not DuesBase.objects.exists()
    text = out + err
    for line in ("3", "4", "5", "6"):
        assert f"{line}" in text
    assert "姓名" in text and "税后月收入" in text


def test_keep_good_writes_the_good_rows(tmp_path, members):
    wang, li = members
    code, _, _ = run(
        tmp_path,
        ["11010619850302123X,,王芳,2026,在职,3000\n", f",{li.pk},张三,2026,在职,3000\n"],
        "--keep-good",
    )
    assert DuesBase.objects.get().member == wang

"""`changxin pioneers import-members FILE`: per-row errors by line, all or nothing, --keep-good."""

import pytest
from django.core.management import CommandError, call_command

from changxin.core.tests.builders import LUGOUQIAO, party_organisation
from changxin.pioneers.importer import MemberImport
from changxin.pioneers.models import MemberStatus, PartyMember

pytestmark = pytest.mark.django_db

HEADER = "姓名,性别,出生日期,身份证号,手机,状态,所在党组织,入党日期,党内职务,支部书记,登录账号,责任区\n"


@pytest.fixture
def branch(demo_world):
    return party_organisation(LUGOUQIAO, "小井村党支部", field="rural")


def write(tmp_path, rows):
    path = tmp_path / "members.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return str(path)


GOOD = "王芳,女,1985-03-02,11010619850302123X,13900001111,正式,小井村党支部,2010-07-01,支部书记,是,lugouqiao,110106017005\n"
GOOD2 = "李明,男,1990/5/6,,13900002222,预备,小井村党支部,2025-06-01,,否,,\n"
BAD = "赵六,男,1988-01-01,110106198801011230,12345,党员,不存在的支部,,,,nobody,999\n"


def run(path, *args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("pioneers", "import-members", path, *args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return code, out.getvalue(), err.getvalue()


def test_good_file_is_imported_with_links_and_areas(tmp_path, branch, demo_world):
    code, out, err = run(write(tmp_path, [GOOD, GOOD2]))
    assert code == 0, err
    wang = PartyMember.objects.get(name="王芳")
    assert wang.is_secretary and wang.user == demo_world["lugouqiao"] and wang.organisation == branch
    assert [a.code for a in wang.areas.all()] == ["110106017005"]
    assert PartyMember.objects.get(name="李明").status == MemberStatus.PROBATIONARY
    assert "2" in out.splitlines()[-1]


def test_bad_rows_are_named_by_line_and_nothing_is_written(tmp_path, branch):
    report = MemberImport().run(write(tmp_path, [GOOD, BAD]))
    assert (report.rows, report.good, report.bad, report.written, report.rolled_back) == (2, 1, 1, 0, True)
    assert not PartyMember.objects.exists()
    assert {(e.line, e.field) for e in report.errors} == {
        (3, "身份证号"),
        (3, "手机"),
        (3, "状态"),
        (3, "所在党组织"),
        (3, "登录账号"),
        (3, "责任区"),
    }
    code, out, err = run(write(tmp_path, [GOOD, BAD]))
    assert code == 1 and not PartyMember.objects.exists()


def test_keep_good_writes_the_good_rows(tmp_path, branch):
    code, out, err = run(write(tmp_path, [GOOD, BAD, GOOD2]), "--keep-good")
    assert code == 0
    assert set(PartyMember.objects.values_list("name", flat=True)) == {"王芳", "李明"}


def test_an_id_number_already_held_is_refused(tmp_path, branch):
    run(write(tmp_path, [GOOD]))
    report = MemberImport().run(write(tmp_path, [GOOD.replace("lugouqiao", "")]))
    assert [(e.line, e.column) for e in report.errors] == [(2, "id_number")]

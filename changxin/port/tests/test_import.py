import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from changxin.port.importer import import_enterprises
from changxin.port.models import Enterprise, EnterpriseEvent
from changxin.port.uscc import complete

pytestmark = pytest.mark.django_db

HEADER = "企业名称,统一社会信用代码,所属街乡镇,功能区,企业规模,重点企业,服务管家,联系电话\n"


def good(n):
    return f"测试企业{n},{complete(f'91110106MA{n:07d}')},卢沟桥街道,丽泽金融商务区,中型,是,manager,13910001001\n"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def write(tmp_path, text):
    path = tmp_path / "enterprises.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_is_imported(tmp_path, demo_world):
    report = import_enterprises(write(tmp_path, HEADER + good(1) + good(2)))
    assert report.written == 2 and report.bad == 0
    first = Enterprise.objects.get(name="测试企业1")
    assert first.zone == "lize" and first.size == "medium" and first.is_key
    assert first.street.code == "110106017" and first.manager == demo_world["manager"]
    assert EnterpriseEvent.objects.filter(action="import").count() == 2


def test_every_bad_row_is_reported_by_line_and_nothing_is_written(tmp_path, demo_world):
    bad_code = complete("91110106MA0000003")[:-1] + "0"
    text = (
        HEADER
        + good(1)
        + f"坏代码,{bad_code},卢沟桥街道,,,,,\n"
        + f"坏街道,{complete('91110106MA0000004')},不存在街道,,,,,\n"
        + good(1).replace("测试企业1", "重复")
    )
    report = import_enterprises(write(tmp_path, text))
    assert report.written == 0 and report.bad == 3 and report.rolled_back
    by_line = {e.line: str(e) for e in report.errors}
    assert set(by_line) == {3, 4, 5}
    assert "check character" in by_line[3] and "不存在街道" in by_line[4] and "line 2" in by_line[5]
    assert not Enterprise.objects.exists()


def test_keep_good_and_the_command(tmp_path, demo_world, capsys):
    path = write(tmp_path, HEADER + good(1) + "坏代码,123,卢沟桥街道,,,,,\n")
    with pytest.raises(CommandError):
        call_command("port", "import-enterprises", str(path))
    assert not Enterprise.objects.exists()
    call_command("port", "import-enterprises", str(path), "--keep-good")
    assert Enterprise.objects.count() == 1
    # the same file again: the good row is already registered
    with pytest.raises(CommandError):
        call_command("port", "import-enterprises", str(path))
    assert "already registered" in capsys.readouterr().err

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from changxin.port import uscc


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# real codes printed on business licences (public registry data)
REAL = ["914403001922038216", "91110000600037341L", "91110108551385082Q"]


@pytest.mark.parametrize("code", REAL)
def test_real_codes_pass(code):
    assert uscc.problem(code) is None
    assert uscc.complete(code[:17]) == code


def test_lower_case_and_spaces_are_normalised():
    assert uscc.is_valid(" 91110000 60003734 1l ")


def test_wrong_check_character_names_position_18_and_the_expected_one():
    reason = uscc.problem("914403001922038215")
    assert "18" in reason and "“5”" in reason and "“6”" in reason


@pytest.mark.parametrize(("code", "position"), [("9144030019220382I6", "17"), ("O14403001922038216", "1")])
def test_forbidden_letters_name_their_position(code, position):
    reason = uscc.problem(code)
    assert f"Character {position} " in reason and "not allowed" in reason


def test_division_code_must_be_digits():
    code = uscc.complete("9144A3001922038" + "21")
    assert "Character 5 " in uscc.problem(code) and "digit" in uscc.problem(code)


def test_length():
    assert "17 characters" in uscc.problem("91440300192203821")
    assert uscc.problem("") is not None


def test_every_single_character_change_is_caught():
    code = REAL[0]
    for i in range(18):
        for c in uscc.ALPHABET:
            if c != code[i]:
                changed = code[:i] + c + code[i + 1 :]
                assert not uscc.is_valid(changed), changed


def test_check_uscc_command_prints_one_line_per_code_and_fails_on_any_bad(capsys):
    call_command("port", "check-uscc", REAL[0], REAL[1])
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{REAL[0]}\tOK", f"{REAL[1]}\tOK"]
    with pytest.raises(CommandError) as err:
        call_command("port", "check-uscc", REAL[0], "914403001922038215")
    assert err.value.returncode == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("OK") and "18" in lines[1]


def test_reasons_are_translated():
    with translation.override("zh-hans"):
        assert uscc.problem("914403001922038215") == "第 18 位（校验码）是“5”，应为“6”。"

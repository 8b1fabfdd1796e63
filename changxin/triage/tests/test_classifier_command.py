"""The classifier's command-line contract and Python API, trained on the hand-written demo set."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from changxin.triage import classifier, csvio
from changxin.triage.taxonomy import LEVEL1

DEMO = classifier.DEMO_DATA


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("triage", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write_csv(path: Path, header: list[str], rows: list[list[str]], bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One model trained on the demo set through the command, shared by the tests of this module."""
    directory = tmp_path_factory.mktemp("models")
    from django.test import override_settings

    with override_settings(CHANGXIN_TRIAGE_MODEL_DIR=directory):
        classifier.clear_cache()
        out, _ = run("train", "--data", DEMO)
    return directory, out


@pytest.fixture
def model_dir(trained, settings):
    settings.CHANGXIN_TRIAGE_MODEL_DIR = trained[0]
    classifier.clear_cache()
    return trained[0]


@pytest.fixture
def empty_model_dir(tmp_path, settings):
    settings.CHANGXIN_TRIAGE_MODEL_DIR = tmp_path / "none"
    classifier.clear_cache()
    return tmp_path / "none"


def test_train_writes_a_versioned_model_and_makes_it_current(trained, model_dir):
    _, out = trained
    version = classifier.current_version()
    assert version and f"model version: {version}" in out
    assert "classes:" in out and "held-out check" in out and "macro-F1" in out
    meta = json.loads((model_dir / version / "meta.json").read_text(encoding="utf-8"))
    assert meta["version"] == version
    assert set(meta["classes"]) == {
        "城乡建设",
        "劳动和社会保障",
        "教育文体",
        "商贸旅游",
        "环境保护",
        "卫生计生",
        "交通运输",
    }
    for key in ("created", "data_hash", "method", "metrics", "train_seconds", "n_train", "temperature"):
        assert key in meta
    assert meta["n_train"] == 175
    assert (model_dir / version / "model.joblib").is_file()


def test_classify_contract(model_dir, tmp_path):
    rows = [
        ["7", "小区暖气不热", "家里暖气只有十几度，\n供热公司一直不来人。", "x"],
        ["3", "", "公司拖欠工资三个月了", "y"],
        ["a-1", "公交车太少", "", ""],
        ["", "", "", ""],
        ["5", "工地夜间施工噪音", "每天晚上打桩到凌晨", "z"],
    ]
    source = write_csv(tmp_path / "in.csv", ["id", "title", "content", "note"], rows, bom=True)
    target = tmp_path / "out.csv"
    run("classify", "--input", source, "--output", target)
    out = read_csv(target)
    assert out[0] == ["id", "category", "confidence"]
    assert [r[0] for r in out[1:]] == ["7", "3", "a-1", "", "5"]
    for _, category, confidence in out[1:]:
        assert category in LEVEL1
        assert 0.0 <= float(confidence) <= 1.0
    categories = {r[0]: r[1] for r in out[1:]}
    assert categories["3"] == "劳动和社会保障"
    assert categories["5"] == "环境保护"


def test_classify_ignores_column_order_and_extra_columns(model_dir, tmp_path):
    source = write_csv(
        tmp_path / "in.csv", ["content", "x", "title", "id"], [["孩子入学学区划分", "", "入学", "9"]]
    )
    run("classify", "--input", source, "--output", tmp_path / "out.csv")
    assert read_csv(tmp_path / "out.csv")[1][0] == "9"


def test_classify_names_a_missing_column(model_dir, tmp_path):
    source = write_csv(tmp_path / "in.csv", ["id", "title"], [["1", "标题"]])
    with pytest.raises(CommandError, match="'content'"):
        run("classify", "--input", source, "--output", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_failures_leave_no_output_behind(model_dir, tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_bytes("id,title,content\n1,标题,内容\n".encode() + b"2,\xff\n")
    with pytest.raises(CommandError, match="not UTF-8"):
        run("classify", "--input", broken, "--output", tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.csv"]
    with pytest.raises(CommandError, match="cannot write"):
        run("classify", "--input", DEMO, "--output", tmp_path / "missing-dir" / "out.csv")


def test_classify_header_only_gives_header_only(model_dir, tmp_path):
    source = write_csv(tmp_path / "in.csv", ["id", "title", "content"], [])
    run("classify", "--input", source, "--output", tmp_path / "out.csv")
    assert read_csv(tmp_path / "out.csv") == [["id", "category", "confidence"]]


def test_missing_input_file(model_dir, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run("classify", "--input", tmp_path / "nope.csv", "--output", tmp_path / "out.csv")


def test_without_a_model_the_commands_say_to_train(empty_model_dir, tmp_path):
    source = write_csv(tmp_path / "in.csv", ["id", "title", "content"], [["1", "标题", "内容"]])
    with pytest.raises(CommandError, match="triage train"):
        run("classify", "--input", source, "--output", tmp_path / "out.csv")
    with pytest.raises(CommandError, match="triage train"):
        run("evaluate", "--input", DEMO)
    assert classifier.classify_demand("标题", "内容") is None


def test_evaluate_prints_metrics_and_confusion(model_dir):
    out, _ = run("evaluate", "--input", DEMO)
    assert "accuracy" in out and "macro-F1" in out and "confusion matrix" in out
    assert "环境保护" in out
    report = json.loads(run("evaluate", "--input", DEMO, "--json")[0])
    assert report["n"] == 175
    assert report["macro_f1"] > 0.9  # the training data itself
    assert len(report["confusion"]) == 7 and sum(map(sum, report["confusion"])) == 175


def test_evaluate_names_a_missing_label_column(model_dir, tmp_path):
    source = write_csv(tmp_path / "in.csv", ["id", "title", "content"], [["1", "标题", "内容"]])
    with pytest.raises(CommandError, match="'label'"):
        run("evaluate", "--input", source)


def test_python_api(model_dir):
    prediction = classifier.classify_demand("楼道灯坏了", "楼道灯坏了一个多月，物业一直不修。")
    assert prediction.category in LEVEL1
    assert 0 <= prediction.confidence <= 1
    assert prediction.model_version == classifier.current_version()
    assert prediction.alternatives[0] == (prediction.category, prediction.confidence)
    assert sum(p for _, p in prediction.alternatives) <= 1.0 + 1e-6
    results = classifier.classify_texts(
        [classifier.demand_text("公交车太少", "早高峰等车二十分钟"), "只有正文"]
    )
    assert len(results) == 2 and all(c in LEVEL1 and 0 <= p <= 1 for c, p in results)


def test_train_rejects_labels_outside_the_taxonomy(tmp_path, settings):
    settings.CHANGXIN_TRIAGE_MODEL_DIR = tmp_path
    source = write_csv(
        tmp_path / "bad.csv",
        ["id", "title", "content", "label"],
        [["1", "a", "b", "城乡建设"], ["2", "c", "d", "天气"]],
    )
    with pytest.raises(CommandError, match="天气"):
        run("train", "--data", source)
    assert classifier.current_version() is None


def test_retraining_adds_a_version_and_switches_current(tmp_path, settings):
    settings.CHANGXIN_TRIAGE_MODEL_DIR = tmp_path
    rows = csvio.read_rows(DEMO, ("id", "title", "content", "label"))
    first = classifier.train(rows, holdout=0)
    second = classifier.train(rows[:120], holdout=0)
    assert first.version != second.version
    assert classifier.current_version() == second.version
    assert {p.name for p in tmp_path.iterdir() if p.is_dir()} == {first.version, second.version}
    assert classifier.classify_demand("标题", "内容").model_version == second.version


def test_a_model_of_another_format_is_refused(tmp_path, settings):
    settings.CHANGXIN_TRIAGE_MODEL_DIR = tmp_path
    rows = csvio.read_rows(DEMO, ("id", "title", "content", "label"))
    info = classifier.train(rows[:100], holdout=0)
    meta = json.loads((info.path / "meta.json").read_text(encoding="utf-8"))
    (info.path / "meta.json").write_text(json.dumps({**meta, "format": 0}), encoding="utf-8")
    classifier.clear_cache()
    with pytest.raises(CommandError, match="retrain"):
        run("classify", "--input", DEMO, "--output", tmp_path / "out.csv")


def test_demo_model_is_trained_once(tmp_path, settings):
    settings.CHANGXIN_TRIAGE_MODEL_DIR = tmp_path
    assert classifier.ensure_demo_model() is not None
    assert classifier.ensure_demo_model() is None  # never replaces an existing model


def test_exit_status_and_message_from_the_console_script(tmp_path):
    """The real process: non-zero exit and the message on stderr."""
    source = write_csv(tmp_path / "in.csv", ["id", "text"], [["1", "x"]])
    env = {
        **os.environ,
        "CHANGXIN_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "changxin.settings_test",
    }
    manage = Path(__file__).resolve().parents[3] / "manage.py"
    result = subprocess.run(
        [
            sys.executable,
            str(manage),
            "triage",
            "classify",
            "--input",
            str(source),
            "--output",
            str(tmp_path / "o.csv"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode != 0
    assert "'title'" in result.stderr and "'content'" in result.stderr

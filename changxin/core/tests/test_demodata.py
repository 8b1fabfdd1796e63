"""Loading an app's demo data files by name."""

from __future__ import annotations

import pytest

from changxin.core import demodata


def test_json_and_csv_files_of_an_app():
    templates = demodata.demo_data("demands", "templates.json")
    assert isinstance(templates, list) and {"key", "titles", "contents", "replies"} <= set(templates[0])
    featured = demodata.demo_data("demands", "featured.csv")
    assert set(featured[0]) == {"lead_unit", "template", "stage"}
    assert demodata.demo_path("demands", "featured.csv").is_file()


def test_missing_and_unsupported_files(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"demands/data/demo/nope.json"):
        demodata.demo_data("demands", "nope.json")
    with pytest.raises(LookupError):
        demodata.demo_data("no_such_app", "x.json")
    with pytest.raises(ValueError, match="are .json or .csv"):
        demodata.demo_data("demands", "notes.yaml")


def test_a_bom_is_accepted(tmp_path, monkeypatch):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n", encoding="utf-8-sig")
    monkeypatch.setattr(demodata, "demo_path", lambda app, name: tmp_path / name)
    assert demodata.demo_data("demands", "t.csv") == [{"a": "1", "b": "2"}]

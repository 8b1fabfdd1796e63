"""The wings' demo data files: `changxin/<app>/data/demo/<name>`, loaded by app label and name.

Demo texts (titles, messages, replies, names, notes) live in data files people can edit — JSON for
nested texts, CSV for tables — not in code; an app's demo hook (`AppConfig.load_demo`, see
core/demo.py) loads them here and drives its real services with them:

    templates = demo_data("demands", "templates.json")    # parsed JSON
    featured = demo_data("demands", "featured.csv")       # list of dicts, one per row

Files are UTF-8 (a BOM is accepted). A missing file raises FileNotFoundError naming the path.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from django.apps import apps

DEMO_DIR = Path("data") / "demo"


def demo_path(app_label: str, name: str) -> Path:
    """The path of an app's demo data file (changxin/<app>/data/demo/<name>)."""
    return Path(apps.get_app_config(app_label).path) / DEMO_DIR / name


def demo_data(app_label: str, name: str):
    """An app's demo data file: .json parsed, .csv as a list of dicts (header row first)."""
    path = demo_path(app_label, name)
    if path.suffix == ".json":
        with open(path, encoding="utf-8-sig") as handle:
            return json.load(handle)
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))
    raise ValueError(f"{path}: demo data files are .json or .csv")

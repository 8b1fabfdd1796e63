"""House-style checks over the whole code base: translations, verbose names, scoped lookups."""

import ast
import os
import shutil
from pathlib import Path

import polib
import pytest
from django.contrib import admin
from django.core.management import call_command
from django.utils.functional import Promise

PACKAGE = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_catalogue(tmp_path, settings):
    """makemessages over a copy of the package, merged into a copy of the committed zh_Hans catalogue."""
    source = tmp_path / "changxin"
    shutil.copytree(
        PACKAGE,
        source,
        ignore=shutil.ignore_patterns("__pycache__", "tests", "migrations", "*.mo", "static"),
    )
    settings.LOCALE_PATHS = [source / "locale"]
    cwd = os.getcwd()
    os.chdir(source)
    try:
        call_command("makemessages", locale=["zh_Hans"], domain="django", no_obsolete=True, verbosity=0)
    finally:
        os.chdir(cwd)
    return polib.pofile(str(source / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))


def test_every_msgid_has_a_chinese_translation(fresh_catalogue):
    """Every string marked for translation is translated (not empty, not fuzzy) in locale/zh_Hans."""
    missing = [
        f"{entry.occurrences[0][0] if entry.occurrences else '?'}: {entry.msgid!r}"
        + (" (fuzzy)" if entry.fuzzy else "")
        for entry in fresh_catalogue
        if not entry.obsolete and (entry.fuzzy or not entry.translated())
    ]
    assert not missing, f"{len(missing)} untranslated msgids:\n" + "\n".join(missing)


def test_the_catalogue_check_sees_new_strings(fresh_catalogue):
    """Guard the check itself: strings from templates and Python are both extracted."""
    msgids = {entry.msgid for entry in fresh_catalogue}
    assert "Org units" in msgids  # templates/core/unit_list.html
    assert "Streets and towns" in msgids  # core/selectors.py


def test_every_admin_model_field_has_a_verbose_name():
    """Chinese labels come through translated verbose names.

    Django fills a missing verbose_name with a plain str made from the attribute name; an explicit
    `_("…")` is a lazy translation proxy. So every concrete field must carry a Promise.
    """
    missing = []
    for model in admin.site._registry:
        for field in model._meta.get_fields():
            if not field.concrete or field.auto_created:
                continue
            if not isinstance(field.verbose_name, Promise):
                missing.append(f"{model._meta.label}.{field.name}")
        if not isinstance(model._meta.verbose_name, Promise):
            missing.append(f"{model._meta.label} (Meta.verbose_name)")
    assert not missing, "without a translated verbose_name: " + ", ".join(missing)


def test_views_and_api_make_no_bare_objects_get():
    """STYLE habit 4: views and API handlers fetch scoped data through selectors/get_visible_or_404."""
    offenders = []
    for path in sorted(PACKAGE.glob("*/views.py")) + sorted(PACKAGE.glob("*/api.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "objects"
            ):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not offenders, (
        "bare .objects.get( in views/api (use a selector or get_visible_or_404): " + ", ".join(offenders)
    )

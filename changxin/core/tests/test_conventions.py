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


# --- one roles module (core/roles.py) ---------------------------------------------------------

ROLE_COPIES_ALLOWED: set[str] = set()
SUBTREE_TEST_ALLOWED = {"core/scope.py", "core/models.py", "core/roles.py"}


def _named_sets() -> dict[frozenset, str]:
    from changxin.core import roles

    named: dict[frozenset, str] = {}
    for name, value in vars(roles).items():
        if name.isupper() and isinstance(value, tuple | frozenset) and len(value) > 1:
            named.setdefault(frozenset(str(v) for v in value), name)  # the first name of an alias
    return named


def _literal_values(node) -> list[str] | None:
    """The values of a literal set/list/tuple of `UnitKind.X` / `Role.X` members or strings."""
    from changxin.core import roles

    if not isinstance(node, ast.Set | ast.List | ast.Tuple) or len(node.elts) < 2:
        return None
    values = []
    for elt in node.elts:
        if (
            isinstance(elt, ast.Attribute)
            and isinstance(elt.value, ast.Name)
            and elt.value.id in ("Role", "UnitKind")
        ):
            enum = getattr(roles, elt.value.id)
            if elt.attr not in enum.__members__:
                return None
            values.append(str(enum[elt.attr]))
        elif isinstance(elt, ast.Constant) and isinstance(elt.value, str):
            values.append(elt.value)
        else:
            return None
    return values


def role_copies(source: str) -> list[str]:
    """`line: NAME` for every literal that spells out a role or unit-kind set of core/roles.py."""
    named = _named_sets()
    found = []
    for node in ast.walk(ast.parse(source)):
        values = _literal_values(node)
        if values is not None and frozenset(values) in named:
            found.append(f"{node.lineno}: {named[frozenset(values)]}")
    return found


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if "/tests/" in relative or "/migrations/" in relative:
            continue
        yield relative, path.read_text(encoding="utf-8")


def test_role_and_unit_kind_sets_are_declared_once():
    offenders = [
        f"{relative}:{hit}"
        for relative, source in _modules()
        if relative != "core/roles.py" and relative not in ROLE_COPIES_ALLOWED
        for hit in role_copies(source)
    ]
    assert not offenders, "use the set from changxin.core.roles instead of a copy: " + ", ".join(offenders)


def test_the_copy_check_sees_copies():
    """Guard the check itself: enum members or plain strings, in any order, any literal kind."""
    assert role_copies("K = {UnitKind.TOWN, UnitKind.STREET}") == ["1: STREET_LEVEL_KINDS"]
    assert role_copies('f(kind__in=["department", "company"])') == ["1: WHISTLE_KINDS"]
    assert role_copies("R = (Role.OPERATOR, Role.ADMIN)") == ["1: CENTRE_ROLES"]
    assert role_copies("R = (Role.ADMIN, Role.LEADERSHIP)") == []  # not a named set


def test_no_subtree_prefix_test_outside_core():
    """`covers(user, unit)` / `OrgUnit.is_ancestor_of` answer "is it in the subtree"."""
    offenders = [
        f"{relative}:{number}"
        for relative, source in _modules()
        if relative not in SUBTREE_TEST_ALLOWED
        for number, line in enumerate(source.splitlines(), 1)
        if ".path.startswith(" in line
    ]
    assert not offenders, "use roles.covers() or OrgUnit.is_ancestor_of(): " + ", ".join(offenders)


def test_predicates_are_not_imported_from_templatetags():
    """Template tags wrap core/roles.py; nothing imports a function from a templatetags module."""
    import importlib
    import inspect

    offenders = []
    for relative, source in _modules():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module and ".templatetags" in node.module:
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if inspect.isfunction(getattr(module, alias.name, None)):
                        offenders.append(f"{relative}:{node.lineno} {alias.name}")
    assert not offenders, "import predicates from changxin.core.roles: " + ", ".join(offenders)


def _python_files(*, skip=("tests", "migrations")):
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if not any(part in skip for part in parts):
            yield path, "/".join(parts)


def test_every_admin_of_a_scoped_model_is_a_scoped_admin():
    """The admin goes through the one scoping mechanism: a model with a Scope has a ScopedAdmin,
    and every inline of a model with a Scope is a ScopedInline (it lists only rows in scope)."""
    from changxin.core.admin_scope import ScopedAdmin, ScopedInline

    offenders = []
    for model, model_admin in admin.site._registry.items():
        if hasattr(model, "Scope") and not isinstance(model_admin, ScopedAdmin):
            offenders.append(f"{type(model_admin).__name__} ({model._meta.label})")
        for inline in model_admin.inlines:
            if hasattr(inline.model, "Scope") and not issubclass(inline, ScopedInline):
                offenders.append(f"{inline.__name__} (inline of {model._meta.label})")
    assert not offenders, "not scoped: " + ", ".join(offenders)


def _state_writes(tree) -> list[int]:
    """Lines assigning to an attribute named `state` (`x.state = …`, `x.state += …`)."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "state" and isinstance(node.ctx, ast.Store)
    ]


def _demand_managers(tree) -> list[int]:
    """Lines reaching a Demand manager directly (`Demand.objects`, `Demand._base_manager`, …)."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in ("objects", "_base_manager", "_default_manager")
        and isinstance(node.value, ast.Name)
        and node.value.id == "Demand"
    ]


# Where a state may still be written outside `services.py`, and why.
STATE_WRITES_ALLOWED = {
    # historical import: finished demands are written as they were, their events from the source
    "demands/importer.py",
    # the ranking appeals' service module (its machine and its one writer), named for its domain
    "insight/appeals.py",
    # 每月一题's service module (its machine and its one writer, `act`), named for its domain
    "insight/monthly.py",
    # 先丰港's service modules of 合作方向, 意见建议 and policies (each the one writer of its machine)
    "port/cooperation.py",
    "port/suggestions.py",
    "port/policies.py",
    # the inspections' service module (一码检查: its machine's one writer), named for its domain
    "port/inspections.py",
    # the party wing's transfer and volunteer-activity machines, each with its one writer (named for
    # its domain, beside services.py)
    "pioneers/transfers.py",
    "pioneers/volunteering.py",
    "pioneers/commitments.py",  # 承诺践诺 and 容错纠错: their machines and their one writer
    "pioneers/honours.py",  # 先锋者荣: its machine and its one writer
}


def test_no_state_assignment_outside_services():
    """`x.state = …` only in services modules: one place changes a state (STYLE habit 2)."""
    offenders = []
    for path, relative in _python_files():
        if path.name == "services.py" or relative in STATE_WRITES_ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offenders += [f"{relative}:{line}" for line in _state_writes(tree)]
    assert not offenders, ".state written outside a services module: " + ", ".join(offenders)


DEMAND_OBJECTS_ALLOWED = {
    "demands/selectors.py",
    "demands/services.py",
    "demands/importer.py",
    "demands/demo.py",
    "core/demo.py",
}


def test_demand_objects_only_in_the_demand_selectors_and_services():
    """Reads of demands go through `demands.selectors` (scoped, or `unscoped_demands()` for system
    work), writes through `demands.services`; `Demand.objects` appears nowhere else."""
    offenders = []
    for path, relative in _python_files():
        if relative in DEMAND_OBJECTS_ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offenders += [f"{relative}:{line}" for line in _demand_managers(tree)]
    assert not offenders, "Demand.objects outside demands/selectors.py and services.py: " + ", ".join(
        offenders
    )


def test_the_convention_scans_see_offenders():
    """Guard the AST scans themselves on a snippet that breaks both rules (and one that does not)."""
    bad = ast.parse("demand.state = 'x'\ntask.state += ''\nDemand.objects.filter(pk=1)\n")
    good = ast.parse("x = demand.state\nunscoped_demands().filter(pk=1)\nOther.objects.all()\n")
    assert _state_writes(bad) == [1, 2] and _demand_managers(bad) == [3]
    assert _state_writes(good) == [] and _demand_managers(good) == []


# Field names that hold personal data wherever they appear (RULES.md "Personal data").
PERSONAL_FIELD_NAMES = {
    "phone",
    "email",
    "id_number",
    "requester_name",
    "requester_phone",
    "contact_name",
    "contact_phone",
}


def test_every_admin_declares_the_personal_fields_of_its_model():
    """A model admin whose model holds a personal field declares it in `personal_fields`, so the
    admin masks it and refuses lookups and search on it (a masked phone must not be rebuilt digit by
    digit through `?phone__startswith=`). It found the enterprise, party-member and development-case
    admins without it."""
    from django.contrib import admin

    from changxin.core.models import OrgUnit

    public = {(OrgUnit, "phone")}  # a unit's office number, published on its page: not personal
    missing = []
    for model, model_admin in admin.site._registry.items():
        declared = set(getattr(model_admin, "personal_fields", {}) or {})
        for field in model._meta.concrete_fields:
            if (model, field.name) in public:
                continue
            if field.name in PERSONAL_FIELD_NAMES and field.name not in declared:
                missing.append(f"{type(model_admin).__name__}: {model.__name__}.{field.name}")
    assert not missing, "declare these in the admin's personal_fields: " + ", ".join(missing)

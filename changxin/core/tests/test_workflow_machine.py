"""The generic workflow machine: table, actors and guards decide together; refusals name the rule."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import models

from changxin.core.errors import CONFLICT, FORBIDDEN, INVALID, DomainError
from changxin.core.workflow import Guard, Machine, WorkflowError, transition


class Stage(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    BUILT = "built", "Built"


SIGNED_CONTRACT = Guard(
    lambda obj, now: bool(obj.contract), "contract_missing", "A signed contract is needed."
)

MACHINE = Machine(
    name="project",
    states=Stage,
    transitions=[
        transition("sign", "Sign", [Stage.DRAFT], Stage.SIGNED, {"manager"}, guards=[SIGNED_CONTRACT]),
        transition("build", "Build", [Stage.SIGNED], Stage.BUILT, {"manager", "system"}),
        transition("comment", "Comment", [Stage.DRAFT, Stage.SIGNED], None, {"manager", "viewer"}, True),
    ],
)


def project(stage, contract=""):
    return SimpleNamespace(state=stage, contract=contract)


def test_available_applies_state_actor_and_guards():
    assert [t.name for t in MACHINE.available(project(Stage.DRAFT, "c-1"), {"manager"})] == [
        "sign",
        "comment",
    ]
    # the guard fails: the action is not offered at all
    assert [t.name for t in MACHINE.available(project(Stage.DRAFT), {"manager"})] == ["comment"]
    assert [t.name for t in MACHINE.available(project(Stage.DRAFT), {"viewer"})] == ["comment"]
    assert MACHINE.available(project(Stage.BUILT), {"manager", "viewer", "system"}) == []


@pytest.mark.parametrize(
    "name,obj,relations,code,kind",
    [
        ("sign", project(Stage.DRAFT), {"manager"}, "contract_missing", CONFLICT),
        ("sign", project(Stage.DRAFT, "c"), {"viewer"}, "not_allowed", FORBIDDEN),
        ("build", project(Stage.DRAFT, "c"), {"manager"}, "illegal_state", CONFLICT),
        ("fly", project(Stage.DRAFT), {"manager"}, "unknown_transition", INVALID),
    ],
)
def test_check_refuses_with_the_rule(name, obj, relations, code, kind):
    with pytest.raises(WorkflowError) as err:
        MACHINE.check(name, obj, relations)
    assert isinstance(err.value, DomainError)
    assert (err.value.code, err.value.kind) == (code, kind)
    assert str(err.value.message)
    assert MACHINE.allows(name, obj, relations) is False


def test_check_passes_and_returns_the_step():
    assert MACHINE.check("sign", project(Stage.DRAFT, "c"), {"manager"}).target == Stage.SIGNED


def test_a_table_naming_an_unknown_state_is_refused_when_built():
    with pytest.raises(ValueError, match="unknown states"):
        Machine(name="bad", states=Stage, transitions=[transition("x", "X", ["nowhere"], Stage.BUILT, {"a"})])


def test_guard_message_parameters_are_filled_from_the_object():
    guard = Guard(lambda o, now: False, "too_many", "At most %(n)s.", params=lambda o: {"n": o.limit})
    error = guard.refusal(SimpleNamespace(limit=3))
    assert (error.code, str(error.message), error.kind) == ("too_many", "At most 3.", CONFLICT)

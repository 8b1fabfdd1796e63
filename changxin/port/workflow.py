"""The investment-project pipeline 储备 → 在谈 → 签约 → 开工 → 建成投产: one instance of the core
workflow machine. Pure: no database; `services.move_project` applies it.

One transition per target stage (`to_talks`, `to_signed`, …), from any other stage. The next stage
in order needs nothing more; a stage skipped or a move back needs a reason (guard `reason_required`):
the service puts the reason on the project (`pending_reason`) before asking the machine, so a move
without one is refused with the rule named, and `available()` without a reason offers only the next
stage.

Actors: MANAGER (the project's service manager), CENTRE (the district centre). Leadership reads only.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from changxin.core.workflow import Guard, Machine
from changxin.core.workflow import transition as _t
from changxin.port.models import STAGE_ORDER, Stage

MANAGER, CENTRE = "manager", "centre"


def is_next(current: str, target: str) -> bool:
    return STAGE_ORDER.index(target) == STAGE_ORDER.index(current) + 1


def _reason_unless_next(target: str) -> Guard:
    return Guard(
        lambda project, now: is_next(project.stage, target) or bool((project.pending_reason or "").strip()),
        "reason_required",
        _("A stage skipped or moved back needs a reason."),
        field="note",
    )


LABELS = {
    Stage.RESERVE: _("Back to the reserve"),
    Stage.TALKS: _("Start talks"),
    Stage.SIGNED: _("Sign"),
    Stage.STARTED: _("Start works"),
    Stage.COMPLETED: _("Completed, in production"),
}

PROJECT = Machine(
    name="project",
    states=Stage,
    state_field="stage",
    noun=_("project"),
    transitions=[
        _t(
            f"to_{target}",
            LABELS[target],
            [s for s in STAGE_ORDER if s != target],
            target,
            {MANAGER, CENTRE},
            False,
            [_reason_unless_next(target)],
        )
        for target in STAGE_ORDER
    ],
)

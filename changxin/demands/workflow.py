"""The demand workflow as ONE explicit table: transition → (from states, to state, who may).

Pure: no database. `services.transition()` is the only code that applies it.

Actors are relations between a user and a demand, not bare roles:
  CENTRE     the district 接诉即办 centre (operators/dispatchers, district admins)
  LEAD       staff (officer/leader) of the lead unit or a unit above it
  TASK       staff of a unit holding a co-unit or called-in task on the demand
  STREET     LEAD, and the lead unit is a street/town (only streets blow the whistle)
  REQUESTER  the citizen or enterprise account that filed the demand
  SYSTEM     the platform itself (deadline escalation, automatic dispatch)
District leadership is read-only and appears in no row.

Clock during a dispute (退单), shown on every disputed demand: the lead unit's deadlines keep
running while the centre decides; if the centre re-dispatches (改派), the new lead unit's deadlines
start afresh from the re-dispatch; if the centre rejects the dispute, the original deadlines stand.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from changxin.demands.models import State

CENTRE, LEAD, TASK, STREET, REQUESTER, SYSTEM = "centre", "lead", "task", "street", "requester", "system"

HANDLING = (State.ACKNOWLEDGED, State.CONTACTED, State.IN_PROGRESS)
OPEN = (State.RECEIVED, State.DISPATCHED, State.DISPUTED, *HANDLING)


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change (an action recorded on the timeline)
    actors: frozenset[str]
    needs_note: bool = False


def _t(name, label, sources, target, actors, needs_note=False) -> Transition:
    return Transition(name, label, tuple(sources), target, frozenset(actors), needs_note)


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        _t("answer", _("Answer at intake"), [State.RECEIVED], State.REPLIED, {CENTRE}, True),
        _t("dispatch", _("Dispatch"), [State.RECEIVED], State.DISPATCHED, {CENTRE, SYSTEM}),
        _t("acknowledge", _("Acknowledge"), [State.DISPATCHED], State.ACKNOWLEDGED, {LEAD}),
        _t(
            "dispute",
            _("Dispute the dispatch"),
            [State.DISPATCHED, State.ACKNOWLEDGED],
            State.DISPUTED,
            {LEAD},
            True,
        ),
        _t(
            "redispatch",
            _("Re-dispatch (uphold dispute)"),
            [State.DISPUTED],
            State.DISPATCHED,
            {CENTRE},
            True,
        ),
        _t("reject_dispute", _("Reject the dispute"), [State.DISPUTED], State.ACKNOWLEDGED, {CENTRE}, True),
        _t(
            "contact", _("Record contact with requester"), [State.ACKNOWLEDGED], State.CONTACTED, {LEAD}, True
        ),
        _t("start", _("Start handling"), [State.CONTACTED], State.IN_PROGRESS, {LEAD}),
        _t("request_extension", _("Request extension"), HANDLING, None, {LEAD}, True),
        _t("approve_extension", _("Approve extension"), HANDLING, None, {CENTRE}),
        _t("deny_extension", _("Deny extension"), HANDLING, None, {CENTRE}, True),
        _t("whistle", _("Blow the whistle (call departments in)"), HANDLING, None, {STREET}, True),
        _t("task_acknowledge", _("Report in (task)"), OPEN, None, {TASK}),
        _t("task_complete", _("Complete task"), OPEN, None, {TASK}, True),
        _t("reply", _("Reply and finish"), [State.CONTACTED, State.IN_PROGRESS], State.REPLIED, {LEAD}, True),
        _t("visit_attempt", _("Return visit: requester unreachable"), [State.REPLIED], None, {CENTRE}),
        _t("return_visit", _("Record return visit"), [State.REPLIED], State.VISITED, {CENTRE, REQUESTER}),
        _t("exclude_rating", _("Exclude an unreasonable rating"), [State.VISITED], None, {CENTRE}, True),
        _t("reopen", _("Reopen (重办)"), [State.VISITED, State.REPLIED], State.DISPATCHED, {CENTRE}, True),
        _t("archive", _("Archive"), [State.VISITED], State.ARCHIVED, {CENTRE, SYSTEM}),
        _t("supervise", _("Supervise (督办)"), OPEN, None, {CENTRE, SYSTEM}),
        _t("merge", _("Merge into a master demand"), OPEN, State.MERGED, {CENTRE}, True),
    ]
}


class WorkflowError(Exception):
    """A transition that the table, the actor or the data does not allow. Nothing was changed."""

    def __init__(self, code: str, message, field: str | None = None):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.field = field


def get_transition(name: str) -> Transition:
    try:
        return TRANSITIONS[name]
    except KeyError:
        raise WorkflowError("unknown_transition", _("Unknown action “%(name)s”.") % {"name": name}) from None


def check(name: str, state: str, relations: set[str]) -> Transition:
    """Raise WorkflowError unless `name` may be applied in `state` by an actor with `relations`."""
    transition = get_transition(name)
    if state not in transition.sources:
        raise WorkflowError(
            "illegal_state",
            _("“%(action)s” is not possible while the demand is “%(state)s”.")
            % {"action": transition.label, "state": State(state).label},
        )
    if not (transition.actors & relations):
        raise WorkflowError(
            "not_allowed", _("You may not “%(action)s” on this demand.") % {"action": transition.label}
        )
    return transition


def available(state: str, relations: set[str]) -> list[Transition]:
    """Transitions an actor with `relations` may apply in `state` (for buttons on screens)."""
    return [t for t in TRANSITIONS.values() if state in t.sources and t.actors & relations]
